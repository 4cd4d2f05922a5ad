/**
 * What the service must never log, as one pattern: the destination in any spelling a provider may quote it in,
 * and the code. Providers reformat what they were given: Twilio prints `+1 (555) 186-9202`, others
 * `555.186.9202`, `(555) 186-9202`, `0044 20 7946 0958` or `+44 (0)20 7946 0958`; mail servers change the case
 * of an address or URL-encode it.
 */

/** Separators a formatted number may carry between its digits (spaces, dots, dashes, brackets, slashes). */
const SEP = String.raw`[\s().\-/\u2010-\u2015]{0,3}`;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The digits of `digits` in order, with any separators between them. */
const spaced = (digits: string) => [...digits].map(escapeRegExp).join(SEP);

/**
 * A phone number's digits in any formatting: with its country code (after `+`, `00` or nothing) or without
 * it (the country code is 1-3 digits, so every national number of 4+ digits is tried), with or without a
 * national trunk `0` (`020 ...`, `(0)20 ...`). Not inside a longer run of digits.
 */
function phonePattern(e164: string): string {
  const digits = e164.replace(/\D/g, '');
  const nationals: string[] = [];
  for (let cc = 1; cc <= 3 && digits.length - cc >= 4; cc++) nationals.push(digits.slice(cc));
  // An international prefix (`+`, `00`) and an opening bracket belong to the number; the space before do not.
  const lead = `(?:(?:\\+|00)${SEP})?\\(?`;
  const withCountry = `${lead}${spaced(digits)}`;
  const countryThenTrunk = nationals.map(
    (n, i) => `${lead}${spaced(digits.slice(0, i + 1))}${SEP}\\(?0\\)?${SEP}${spaced(n)}`,
  );
  const national = nationals.map((n) => `\\(?(?:0\\)?${SEP})?${spaced(n)}`);
  return `(?<!\\d)(?:${[withCountry, ...countryThenTrunk, ...national].join('|')})(?!\\d)`;
}

/** An e-mail address in any case, also URL-encoded. */
function emailPattern(address: string): string {
  const forms = new Set([address, encodeURIComponent(address)]);
  return [...forms].map(escapeRegExp).join('|');
}

/**
 * Replaces every spelling of the destination and the code in `text` with `[redacted]`.
 *
 * @param destination the normalised destination (E.164 phone or lower-cased e-mail address)
 * @param code the code sent; also caught with separators (`123 456`, `123-456`) and in any case
 */
export function scrubber(destination: string, code: string): (text: string) => string {
  const parts = [destination.includes('@') ? emailPattern(destination) : phonePattern(destination)];
  if (code !== '') parts.push(`(?<![0-9A-Za-z])${spaced(code)}(?![0-9A-Za-z])`, escapeRegExp(code));
  const pattern = new RegExp(parts.join('|'), 'giu');
  return (text) => text.replace(pattern, '[redacted]');
}
