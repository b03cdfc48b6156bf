import { isInteger, isSafeNumber, parse } from 'lossless-json';

/**
 * Keeps every digit of integers beyond 2^53 (Atlas certificate serials are int64) by returning
 * them as decimal strings; every other number becomes a plain `number`.
 */
const parseNumber = (text: string): number | string =>
  !isSafeNumber(text) && isInteger(text) ? text : Number(text);

/**
 * Parses JSON without losing integer precision: `1976722359483124370` stays
 * `'1976722359483124370'` where `JSON.parse` would yield `1976722359483124500`.
 *
 * @throws SyntaxError when the text is not JSON.
 */
export const parseJson = (text: string): unknown => parse(text, null, parseNumber);
