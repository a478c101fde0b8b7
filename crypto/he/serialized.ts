/**
 * Checks on serialized SEAL objects before any byte reaches SEAL: type, size limits and the
 * 16-byte SEAL 4 serialization header (magic, header size, version, compression mode, total size).
 * Truncated, padded, oversized or foreign inputs are refused here, cheaply; SEAL's own `load`
 * then checks that the object is valid for this context's parameters.
 */
import { HeInputError, type HeInputKind } from './errors.ts';

/** Size of SEAL's `SEALHeader`. */
export const SEAL_HEADER_BYTES = 16;
/** `SEALHeader.magic`. */
const SEAL_MAGIC = 0xa15e;
/** SEAL major version node-seal 7 builds (4.1). */
const SEAL_VERSION_MAJOR = 4;
/** Highest `compr_mode_type` value (none = 0, zlib = 1, zstd = 2). */
const MAX_COMPRESSION_MODE = 2;

const LABEL: Record<HeInputKind, string> = { ciphertext: 'ciphertext', publicKey: 'public key' };

/**
 * Checks that `bytes` is one whole SEAL object of at most `maxBytes` bytes.
 * @throws TypeError when `bytes` is not a Uint8Array (a programming error).
 * @throws HeInputError (code BAD_CIPHERTEXT) otherwise.
 */
export function checkSerialized(bytes: unknown, kind: HeInputKind, maxBytes: number): Uint8Array {
  const label = LABEL[kind];
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${label} must be a Uint8Array`);
  if (bytes.byteLength > maxBytes) throw new HeInputError(kind, `${label} exceeds ${maxBytes} bytes`);
  if (bytes.byteLength < SEAL_HEADER_BYTES) throw new HeInputError(kind, `${label} is shorter than a SEAL header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== SEAL_MAGIC || view.getUint8(2) !== SEAL_HEADER_BYTES)
    throw new HeInputError(kind, `${label} is not a SEAL object`);
  if (view.getUint8(3) !== SEAL_VERSION_MAJOR) throw new HeInputError(kind, `${label} has an unsupported SEAL version`);
  if (view.getUint8(5) > MAX_COMPRESSION_MODE || view.getUint16(6, true) !== 0)
    throw new HeInputError(kind, `${label} has an invalid SEAL header`);
  if (view.getBigUint64(8, true) !== BigInt(bytes.byteLength))
    throw new HeInputError(kind, `${label} is truncated or has trailing bytes`);
  return bytes;
}
