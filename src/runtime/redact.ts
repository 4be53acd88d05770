/**
 * Keeping secrets out of everything ledgersync prints. Libraries put URLs (with the
 * API key in their path or query) into error messages, stacks and properties that we
 * do not control, so output is scrubbed as text, after serialisation: every secret the
 * configuration holds (src/config/secrets.ts), in each spelling it can take in a log
 * line, and then anything key-like in any other URL.
 */

const REDACTED = 'redacted';
/** Shorter configured secrets are not searched for: replacing them would garble every line they occur in by chance. */
const MIN_SECRET_LENGTH = 4;
const SECRET_NAME = /key|token|secret|passw|auth|sig|cred/i;
const URL_IN_TEXT = /\b(?:https?|wss?|postgres(?:ql)?):\/\/[^\s"'`<>\\]+/gi;

/**
 * An API key rather than a word: long and random-looking (a digit or mixed case), or very long.
 * `v2`, `mainnet` and `polygon-mainnet-archive` are words; Infura's and Alchemy's keys are not.
 */
export function looksLikeKey(text: string): boolean {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(text)) return false;
  return text.length >= 32 || /\d/.test(text) || (/[a-z]/.test(text) && /[A-Z]/.test(text));
}

/** A URL with its password, key-like user name, path segments and query values, and secret-named query values replaced. */
export function redactUrl(url: string): string {
  try {
    return redactUrlText(new URL(url).toString());
  } catch {
    return '[unparseable url]';
  }
}

/**
 * A function that scrubs text: each of `secrets` as it is, URL-encoded and JSON-escaped (once
 * inside a log line, twice inside a message quoted in one), a private key also without its
 * 0x; then the key-like parts of every URL left.
 */
export function createScrubber(secrets: Iterable<string>): (text: string) => string {
  const spellings = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    const bare = /^0x[0-9a-f]{64}$/i.test(secret) ? secret.slice(2) : secret;
    for (const form of [bare, encodeURIComponent(bare)]) {
      const once = jsonEscape(form);
      spellings.add(form).add(once).add(jsonEscape(once));
    }
  }
  // Longest first, so that a secret is replaced whole rather than a shorter one inside it.
  const known = [...spellings].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = known.length > 0 ? new RegExp(known.join('|'), 'gi') : undefined;
  return (text) => (pattern ? text.replace(pattern, REDACTED) : text).replace(URL_IN_TEXT, redactUrlText);
}

/** The secret parts of a URL: its password (and user name when `userIsSecret`), key-like path segments, and key-like or secret-named query values. */
export function urlSecrets(url: string, options: { userIsSecret: boolean }): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const found = [parsed.password];
  if (options.userIsSecret) found.push(parsed.username);
  found.push(...parsed.pathname.split('/').filter((segment) => looksLikeKey(decode(segment))));
  for (const [name, value] of parsed.searchParams) {
    if (SECRET_NAME.test(name) || looksLikeKey(value)) found.push(value);
  }
  // The URL object keeps user info and path percent-encoded: the decoded form may show up too.
  return found.filter(Boolean).flatMap((secret) => [secret, decode(secret)]);
}

/** Redacts in place, without re-serialising the URL, so that it stays recognisable in the text around it. */
function redactUrlText(url: string): string {
  const match = /^([^:]+:\/\/)([^/?#]*)([^?#]*)(.*)$/s.exec(url);
  if (!match) return url;
  const [, scheme, authority, path, rest] = match as unknown as [string, string, string, string, string];
  const at = authority.lastIndexOf('@');
  let host = authority;
  if (at >= 0) {
    const user = authority.slice(0, at);
    const colon = user.indexOf(':');
    const safeUser = colon >= 0 ? `${user.slice(0, colon)}:${REDACTED}` : looksLikeKey(decode(user)) ? REDACTED : user;
    host = `${safeUser}@${authority.slice(at + 1)}`;
  }
  const safePath = path
    .split('/')
    .map((segment) => (looksLikeKey(decode(segment)) ? REDACTED : segment))
    .join('/');
  const safeRest = rest.replace(/([?&;])([^=&#;]*)=([^&#;]*)/g, (all, separator: string, name: string, value: string) =>
    SECRET_NAME.test(decode(name)) || looksLikeKey(decode(value)) ? `${separator}${name}=${REDACTED}` : all,
  );
  return `${scheme}${host}${safePath}${safeRest}`;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function jsonEscape(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
