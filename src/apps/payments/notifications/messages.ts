/**
 * What a payment notification says, Spanish first: a small catalogue (es, en)
 * and amounts formatted per locale from the token's base units, never through
 * floating point (a bigint's integer and fraction digits are formatted apart).
 */

/** The languages the catalogue speaks; any other locale reads Spanish. */
export const LANGUAGES = ['es', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LOCALE = 'es';

export const NOTIFICATION_KINDS = [
  'payment_received',
  'payment_sent',
  'merchant_payment_received',
  'escrow_created',
  'escrow_released',
  'escrow_cancelled',
  'escrow_disputed',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** What a message is made of; `amount` in the token's base units. */
export interface MessageParams {
  amount: bigint;
  decimals: number;
  /** The token as users know it (`cUSD`). */
  symbol: string;
  /** Who paid or was paid, as the user knows them (a name or a phone number), when known. */
  counterparty?: string;
  /** A merchant payment's reference (an invoice or order number). */
  reference?: string;
}

export interface RenderedMessage {
  /** The locale the message was written in (the one asked for, or Spanish when that one is unknown or malformed). */
  locale: string;
  title: string;
  body: string;
}

type Template = (amount: string, p: MessageParams) => { title: string; body: string };

const from = (word: string, p: MessageParams) => (p.counterparty ? ` ${word} ${p.counterparty}` : '');
const ref = (word: string, p: MessageParams) => (p.reference ? ` (${word} ${p.reference})` : '');

const CATALOGUE: Record<Language, Record<NotificationKind, Template>> = {
  es: {
    payment_received: (a, p) => ({ title: 'Pago recibido', body: `Recibiste ${a}${from('de', p)}` }),
    payment_sent: (a, p) => ({ title: 'Pago enviado', body: `Enviaste ${a}${from('a', p)}` }),
    merchant_payment_received: (a, p) => ({ title: 'Nuevo pago en tu negocio', body: `Recibiste un pago de ${a}${from('de', p)}${ref('ref.', p)}` }),
    escrow_created: (a) => ({ title: 'Fondos en custodia', body: `${a} quedaron en custodia para tu intercambio` }),
    escrow_released: (a) => ({ title: 'Custodia liberada', body: `Se liberaron ${a} de la custodia` }),
    escrow_cancelled: (a) => ({ title: 'Intercambio cancelado', body: `Se devolvieron ${a} de la custodia` }),
    escrow_disputed: (a) => ({ title: 'Intercambio en disputa', body: `Tu intercambio de ${a} está en disputa; lo revisaremos` }),
  },
  en: {
    payment_received: (a, p) => ({ title: 'Payment received', body: `You received ${a}${from('from', p)}` }),
    payment_sent: (a, p) => ({ title: 'Payment sent', body: `You sent ${a}${from('to', p)}` }),
    merchant_payment_received: (a, p) => ({ title: 'New payment to your business', body: `You received a payment of ${a}${from('from', p)}${ref('ref.', p)}` }),
    escrow_created: (a) => ({ title: 'Funds in escrow', body: `${a} is held in escrow for your trade` }),
    escrow_released: (a) => ({ title: 'Escrow released', body: `${a} was released from escrow` }),
    escrow_cancelled: (a) => ({ title: 'Trade cancelled', body: `${a} was returned from escrow` }),
    escrow_disputed: (a) => ({ title: 'Trade disputed', body: `Your trade of ${a} is in dispute; we will review it` }),
  },
};

/**
 * The locale to write in and its language: a well-formed tag whose language the
 * catalogue speaks (`es-AR`, `en`, `EN-us`), canonicalised; anything else is Spanish.
 * The full tag is kept for formatting: `es-MX` writes 1,234.50 as Mexico does.
 */
export function resolveLocale(locale: string | null | undefined): { locale: string; language: Language } {
  let canonical: string | undefined;
  try {
    canonical = locale ? Intl.getCanonicalLocales(locale)[0] : undefined;
  } catch {
    canonical = undefined; // malformed tag
  }
  const language = canonical?.split('-')[0] as Language | undefined;
  if (!canonical || !language || !LANGUAGES.includes(language)) return { locale: DEFAULT_LOCALE, language: DEFAULT_LOCALE };
  // A tag Intl cannot format with (an unknown region still formats; this is belt and braces).
  if (Intl.NumberFormat.supportedLocalesOf([canonical]).length === 0) return { locale: language, language };
  return { locale: canonical, language };
}

/**
 * `amount` base units of a token with `decimals` decimals, in the locale's way,
 * with its symbol: es `1.234,50 cUSD`, en `1,234.50 cUSD`. At least two fraction
 * digits (fewer if the token has fewer decimals) and up to `decimals`, trailing
 * zeros beyond two dropped: 5 cUSD is `5,00`, one base unit is `0,000001`.
 * Thousands are always grouped (Spanish's CLDR rule would leave `1234` alone).
 */
export function formatAmount(amount: bigint, decimals: number, locale: string, symbol?: string): string {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 77) throw new RangeError(`decimals must be an integer from 0 to 77, not ${decimals}`);
  const { locale: tag } = resolveLocale(locale);
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const scale = 10n ** BigInt(decimals);
  const integer = magnitude / scale;
  let fraction = decimals > 0 ? (magnitude % scale).toString().padStart(decimals, '0') : '';
  const minimum = Math.min(2, decimals);
  fraction = fraction.replace(/0+$/, '');
  if (fraction.length < minimum) fraction = fraction.padEnd(minimum, '0');

  const integerFormat = new Intl.NumberFormat(tag, { useGrouping: 'always', maximumFractionDigits: 0 });
  const separator = new Intl.NumberFormat(tag).formatToParts(1.5).find((part) => part.type === 'decimal')?.value ?? '.';
  const sign = negative ? (new Intl.NumberFormat(tag).formatToParts(-1).find((part) => part.type === 'minusSign')?.value ?? '-') : '';
  const digits = `${sign}${integerFormat.format(integer)}${fraction ? `${separator}${fraction}` : ''}`;
  return symbol ? `${digits} ${symbol}` : digits;
}

/** The notification of `kind` in `locale` (Spanish when the catalogue does not speak it). */
export function renderMessage(kind: NotificationKind, locale: string | null | undefined, params: MessageParams): RenderedMessage {
  const resolved = resolveLocale(locale);
  const template = CATALOGUE[resolved.language][kind];
  if (!template) throw new Error(`no message for notification kind ${String(kind)}`);
  return { locale: resolved.locale, ...template(formatAmount(params.amount, params.decimals, resolved.locale, params.symbol), params) };
}

export function isNotificationKind(kind: string): kind is NotificationKind {
  return (NOTIFICATION_KINDS as readonly string[]).includes(kind);
}
