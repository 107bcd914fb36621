/**
 * The text of a CSV export, whatever encoding the ERP or Excel saved it in: a BOM decides
 * (UTF-8, UTF-16); else a file that is valid UTF-8 is UTF-8; else it is read as
 * Windows-1252 (Excel's "CSV (separado por vírgulas)" on a Brazilian Windows), decoded by
 * iconv-lite. A file that is neither is refused, naming the line, so nothing is ever stored
 * with replacement characters.
 */
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export class CsvEncodingError extends Error {}

export interface DecodedCsv {
  text: string;
  encoding: CsvEncoding;
  /** A byte-order mark was found (and dropped). */
  bom: boolean;
}

const SAVE_AS_UTF8 = 'save it again as UTF-8 (Excel: "CSV UTF-8 (delimitado por vírgulas)")';
/** Bytes Windows-1252 leaves undefined: a file holding them is not Windows-1252 either. */
const UNDEFINED_IN_CP1252 = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

/**
 * Decodes a whole export. Throws CsvEncodingError (with the 1-based line) for a file that
 * mixes UTF-8 with another encoding, or holds bytes no supported encoding has.
 */
export function decodeCsv(buffer: Buffer): DecodedCsv {
  if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) {
    const body = buffer.subarray(3);
    if (!isUtf8(body)) throw new CsvEncodingError(`${describeBadUtf8(body)}, although the file starts with a UTF-8 mark; ${SAVE_AS_UTF8}`);
    return { text: body.toString('utf8'), encoding: 'utf-8', bom: true };
  }
  if (buffer[0] === 0xff && buffer[1] === 0xfe) return { text: iconv.decode(buffer.subarray(2), 'utf-16le'), encoding: 'utf-16le', bom: true };
  if (buffer[0] === 0xfe && buffer[1] === 0xff) return { text: iconv.decode(buffer.subarray(2), 'utf-16be'), encoding: 'utf-16be', bom: true };
  // UTF-16 without a mark still shows itself: every other byte of ASCII text is zero.
  if (buffer.length >= 4 && buffer[0] !== 0 && buffer[1] === 0 && buffer[2] !== 0 && buffer[3] === 0) {
    return { text: iconv.decode(buffer, 'utf-16le'), encoding: 'utf-16le', bom: false };
  }
  if (buffer.length >= 4 && buffer[0] === 0 && buffer[1] !== 0 && buffer[2] === 0 && buffer[3] !== 0) {
    return { text: iconv.decode(buffer, 'utf-16be'), encoding: 'utf-16be', bom: false };
  }
  if (isUtf8(buffer)) return { text: buffer.toString('utf8'), encoding: 'utf-8', bom: false };

  // Not UTF-8 as a whole. If some line is UTF-8 with accents while another is not, the
  // file was pieced together from two sources: no single decoding is right for it.
  let line = 1;
  let utf8Line: number | null = null;
  let otherLine: number | null = null;
  for (let start = 0; start < buffer.length; ) {
    let end = buffer.indexOf(0x0a, start);
    if (end === -1) end = buffer.length;
    const bytes = buffer.subarray(start, end);
    if (bytes.some((byte) => byte >= 0x80)) {
      if (isUtf8(bytes)) utf8Line ??= line;
      else otherLine ??= line;
      const undefinedByte = bytes.find((byte) => UNDEFINED_IN_CP1252.has(byte));
      if (undefinedByte !== undefined && !isUtf8(bytes)) {
        throw new CsvEncodingError(
          `line ${line} holds the byte 0x${undefinedByte.toString(16).toUpperCase()}, which is neither UTF-8 nor Windows-1252; ${SAVE_AS_UTF8}`,
        );
      }
    }
    line += 1;
    start = end + 1;
  }
  if (utf8Line !== null && otherLine !== null) {
    throw new CsvEncodingError(
      `line ${otherLine} is not UTF-8 but line ${utf8Line} is: the file mixes two encodings; ${SAVE_AS_UTF8}`,
    );
  }
  return { text: iconv.decode(buffer, 'win1252'), encoding: 'windows-1252', bom: false };
}

function describeBadUtf8(buffer: Buffer): string {
  let line = 1;
  for (let start = 0; start < buffer.length; ) {
    let end = buffer.indexOf(0x0a, start);
    if (end === -1) end = buffer.length;
    if (!isUtf8(buffer.subarray(start, end))) return `line ${line} is not UTF-8`;
    line += 1;
    start = end + 1;
  }
  return 'the file is not UTF-8';
}
