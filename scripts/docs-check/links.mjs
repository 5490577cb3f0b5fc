// The link checker of `npm run docs:check`, as pure functions over page text: which URLs a page
// links to (href, src, srcset), which ids it defines, where a URL points inside the site, and
// which links of a set of pages point at no file or at a missing anchor. Paths are site-relative
// with forward slashes ('documents/Concepts.html').
import { posix } from 'node:path';

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** `text` with HTML character references decoded (named ones of ENTITIES, decimal, hex). */
export function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref) => {
    if (ref[0] === '#') {
      const code =
        ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return String.fromCodePoint(code);
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** The markup of a page without comments and without the bodies of script and style elements. */
function markupOnly(html) {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/(<script\b[^>]*>)[\s\S]*?<\/script\s*>/gi, '$1')
    .replace(/(<style\b[^>]*>)[\s\S]*?<\/style\s*>/gi, '$1');
}

/** Every start tag of a page with its attributes (names lower-cased, values decoded). */
export function tags(html) {
  const found = [];
  for (const m of markupOnly(html).matchAll(/<([a-z][\w-]*)(\s[^>]*)?>/gi)) {
    const attrs = {};
    const text = m[2] ?? '';
    for (const a of text.matchAll(
      /([^\s"'=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g,
    )) {
      const name = a[1].toLowerCase();
      if (!(name in attrs)) attrs[name] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? '');
    }
    found.push({ tag: m[1].toLowerCase(), attrs });
  }
  return found;
}

/** The URLs of a page's href, src and srcset attributes, each with its tag: [{ tag, url }]. */
export function extractLinks(html) {
  const links = [];
  for (const { tag, attrs } of tags(html)) {
    for (const name of ['href', 'src']) {
      if (name in attrs) links.push({ tag, url: attrs[name].trim() });
    }
    if ('srcset' in attrs) {
      for (const candidate of attrs.srcset.split(',')) {
        const url = candidate.trim().split(/\s+/)[0];
        if (url) links.push({ tag, url });
      }
    }
  }
  return links;
}

/** The ids a page defines (id attributes, and name attributes of `a` elements). */
export function extractIds(html) {
  const ids = new Set();
  for (const { tag, attrs } of tags(html)) {
    if (attrs.id) ids.add(attrs.id);
    if (tag === 'a' && attrs.name) ids.add(attrs.name);
  }
  return ids;
}

/**
 * Where `url`, found on the page `page`, points: `{ external: true }` for a URL with a scheme
 * (`https:`, `mailto:`, `data:`) or a network path (`//host`); otherwise
 * `{ external: false, path, anchor }` with `path` the site-relative file ('' never: a URL of
 * only an anchor points at `page` itself; a folder path ends with '/'), `anchor` the decoded
 * fragment or '' and `outside: true` when the path climbs above the site's root.
 */
export function resolveLink(page, url) {
  if (/^[a-z][a-z\d+.-]*:/i.test(url) || url.startsWith('//')) return { external: true };
  const hash = url.indexOf('#');
  const anchor = hash < 0 ? '' : safeDecode(url.slice(hash + 1));
  const beforeHash = hash < 0 ? url : url.slice(0, hash);
  const target = safeDecode(beforeHash.replace(/\?.*$/, ''));
  if (target === '') return { external: false, path: page, anchor };
  const joined = target.startsWith('/')
    ? posix.normalize(target.slice(1) || './')
    : posix.normalize(posix.join(posix.dirname(page), target));
  const outside = joined === '..' || joined.startsWith('../');
  const path = joined === '.' || joined === './' ? '' : joined.replace(/^\.\//, '');
  return { external: false, path, anchor, ...(outside ? { outside: true } : {}) };
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Check every link of `pages` (a Map from site-relative path to HTML). `isFile(path)` says
 * whether the site has that file; a folder link is fine when the folder has an index.html.
 * An anchor is checked when it points at one of `pages` (`#` alone and an empty anchor are the
 * top of a page). Returns `{ pages, links, external, broken: [{ page, url, reason }] }`, with
 * `links` the internal links checked.
 */
export function checkLinks(pages, isFile) {
  const ids = new Map();
  const idsOf = (path) => {
    if (!ids.has(path)) ids.set(path, extractIds(pages.get(path)));
    return ids.get(path);
  };
  const broken = [];
  let links = 0;
  let external = 0;
  for (const [page, html] of pages) {
    for (const { url } of extractLinks(html)) {
      const target = resolveLink(page, url);
      if (target.external) {
        external++;
        continue;
      }
      links++;
      if (target.outside) {
        broken.push({ page, url, reason: 'points outside the site' });
        continue;
      }
      const file = fileOf(target.path, isFile);
      if (file === undefined) {
        broken.push({ page, url, reason: `no file ${target.path || '(site root)'}` });
      } else if (target.anchor !== '' && pages.has(file) && !idsOf(file).has(target.anchor)) {
        broken.push({ page, url, reason: `${file} has no id "${target.anchor}"` });
      }
    }
  }
  return { pages: pages.size, links, external, broken };
}

/** The file a site path names: itself, or the index.html of the folder it names. */
function fileOf(path, isFile) {
  const index = path === '' || path.endsWith('/') ? `${path}index.html` : `${path}/index.html`;
  if (path !== '' && !path.endsWith('/') && isFile(path)) return path;
  return isFile(index) ? index : undefined;
}
