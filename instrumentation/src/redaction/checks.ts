/** Validity checks that turn a pattern match into a finding; each is linear in its input. */

/** Luhn (mod 10) checksum over a string of decimal digits. */
export const luhnValid = (digits: string): boolean => {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index--) {
    let digit = digits.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return false;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
};

/**
 * A card number as people write it: 13 to 19 digits passing Luhn, either unbroken or grouped the way
 * issuers print them (fours, or 4-6-5 / 4-6-4), so lists of numbers and phone numbers do not match.
 */
export const plausibleCardNumber = (candidate: string): boolean => {
  const digits = candidate.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19 || !luhnValid(digits)) return false;
  if (digits === candidate) return true;
  const groups = candidate.split(/[ -]/).map((group) => group.length);
  if (groups.some((length) => length === 0)) return false;
  const issuerGrouping = groups.join('-');
  if (issuerGrouping === '4-6-5' || issuerGrouping === '4-6-4') return true;
  const last = groups[groups.length - 1] ?? 0;
  return groups.slice(0, -1).every((length) => length === 4) && last >= 1 && last <= 4;
};

/**
 * How much of a digit run is a card number: the longest prefix that ends at the run's end or at a
 * separator and is plausible (`4111 1111 1111 1111 0` holds a card followed by a 0); 0 for none.
 * Runs that cannot be grouped like a card (`4 4 4 4 …`) are dismissed before any checksum.
 */
export const cardNumberLength = (candidate: string): number => {
  const groups = candidate.split(/[ -]/);
  const first = groups[0] ?? '';
  // Every grouping issuers print starts with four digits; anything else can only be one unbroken run.
  if (groups.length === 1 || first.length !== 4) return plausibleCardNumber(first) ? first.length : 0;
  const ends: number[] = [];
  let end = -1;
  for (const group of groups) ends.push((end += group.length + 1));
  for (let count = ends.length; count >= 2; count--) {
    const length = ends[count - 1] ?? 0;
    if (plausibleCardNumber(candidate.slice(0, length))) return length;
  }
  return 0;
};

const hasDigit = (text: string): boolean => /[0-9]/.test(text);

/** Tokens after `Bearer`/`Token`: random-looking, so prose such as "Bearer authentication" is kept. */
export const looksLikeToken = (candidate: string): boolean =>
  hasDigit(candidate) ||
  /[._~+/=-]/.test(candidate) ||
  candidate.length >= 20 ||
  (/[a-z]/.test(candidate) && /[A-Z]/.test(candidate) && candidate.length >= 12);

/** Random base64 key material holds both cases; hex digests and commit hashes hold one. */
export const mixedCase = (candidate: string): boolean => /[a-z]/.test(candidate) && /[A-Z]/.test(candidate);

/** Random key material has digits; words joined by dashes (`sk-is-not-a-key`) do not. */
export const containsDigit = hasDigit;

/** `Basic` credentials are base64 of `user:password`; other words after "basic" decode to noise. */
export const decodesToCredentialPair = (candidate: string): boolean => {
  if (candidate.length % 4 !== 0) return false;
  const decoded = Buffer.from(candidate, 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  return colon >= 0 && /^[\x20-\x7e]+$/.test(decoded);
};
