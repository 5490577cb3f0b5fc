import { describe, expect, it } from 'vitest';
import {
  checkLinks,
  decodeEntities,
  extractIds,
  extractLinks,
  resolveLink,
} from '../../scripts/docs-check/links.mjs';

// The link checker of `npm run docs:check` (scripts/docs-check/links.mjs), on hand-written pages.
describe('the docs link checker', () => {
  it('finds href, src and srcset URLs, not those in comments or script bodies', () => {
    const html = [
      '<!-- <a href="gone.html"> -->',
      '<a class="x" href="a.html#part">A</a>',
      '<img src=\'m.svg\' srcset="m.png 1x, m@2x.png 2x">',
      '<script src="s.js">const s = \'<a href="not-a-link.html">\';</script>',
      '<link rel=stylesheet href=style.css>',
      '<a href="q.html?a=1&amp;b=2">Q</a>',
    ].join('\n');
    expect(extractLinks(html)).toEqual([
      { tag: 'a', url: 'a.html#part' },
      { tag: 'img', url: 'm.svg' },
      { tag: 'img', url: 'm.png' },
      { tag: 'img', url: 'm@2x.png' },
      { tag: 'script', url: 's.js' },
      { tag: 'link', url: 'style.css' },
      { tag: 'a', url: 'q.html?a=1&b=2' },
    ]);
  });

  it('decodes named, decimal and hex character references', () => {
    expect(decodeEntities('a&amp;b &lt;&#62; &#x41; &unknown;')).toBe('a&b <> A &unknown;');
  });

  it("collects a page's ids and the names of its a elements", () => {
    const html = '<h2 id="install">I</h2><a name="legacy"></a><div data-id="no" id="x-1"></div>';
    expect([...extractIds(html)].sort()).toEqual(['install', 'legacy', 'x-1']);
  });

  it('resolves URLs against the page they are on', () => {
    const cases = [
      // [page, url, expected]
      ['documents/Concepts.html', '../modules/m.html#y', { path: 'modules/m.html', anchor: 'y' }],
      ['index.html', '#install', { path: 'index.html', anchor: 'install' }],
      ['playground/index.html', '../index.html', { path: 'index.html', anchor: '' }],
      ['a/b.html', '/c.html', { path: 'c.html', anchor: '' }],
      ['a/b.html', './c%20d.html?x=1#e%20f', { path: 'a/c d.html', anchor: 'e f' }],
      ['index.html', 'playground/', { path: 'playground/', anchor: '' }],
      ['a/b.html', '/', { path: '', anchor: '' }],
      ['index.html', '../up.html', { path: '../up.html', anchor: '', outside: true }],
    ];
    for (const [page, url, expected] of cases) {
      expect(resolveLink(page, url), `${url} on ${page}`).toEqual({ external: false, ...expected });
    }
    for (const url of [
      'https://x.org/a',
      'mailto:a@b.c',
      '//cdn.x/a.js',
      'data:image/png;base64,AA',
    ]) {
      expect(resolveLink('index.html', url)).toEqual({ external: true });
    }
  });

  it('reports links to missing files and missing anchors, and nothing else', () => {
    const pages = new Map([
      [
        'index.html',
        [
          '<h1 id="top">T</h1>',
          '<a href="docs/a.html#there">ok</a>',
          '<a href="docs/a.html#nowhere">missing anchor</a>',
          '<img src="missing.png">',
          '<a href="playground/">folder with index.html</a>',
          '<a href="https://example.org/">external</a>',
          '<a href="#">top</a>',
        ].join('\n'),
      ],
      ['docs/a.html', '<p id="there"><a href="../index.html#top">back</a></p>'],
    ]);
    const files = new Set(['index.html', 'docs/a.html', 'playground/index.html']);
    // index.html: 5 internal links (#, the folder, two to docs/a.html, the image), 1 external;
    // docs/a.html: 1 internal. Broken: the anchor #nowhere and the image.
    expect(checkLinks(pages, (p) => files.has(p))).toEqual({
      pages: 2,
      links: 6,
      external: 1,
      broken: [
        {
          page: 'index.html',
          url: 'docs/a.html#nowhere',
          reason: 'docs/a.html has no id "nowhere"',
        },
        { page: 'index.html', url: 'missing.png', reason: 'no file missing.png' },
      ],
    });
  });

  it('reports a link that climbs above the site', () => {
    const pages = new Map([['index.html', '<a href="../secret.txt">x</a>']]);
    expect(checkLinks(pages, () => true).broken).toEqual([
      { page: 'index.html', url: '../secret.txt', reason: 'points outside the site' },
    ]);
  });
});
