import { writeFile } from 'node:fs/promises';
import { generate } from 'selfsigned';

export interface SimulatorCertificate {
  key: string;
  cert: string;
}

/** A self-signed certificate for localhost and 127.0.0.1; clients trust it as their CA. */
export async function createSimulatorCertificate(caFile?: string): Promise<SimulatorCertificate> {
  const notAfterDate = new Date(Date.now() + 30 * 24 * 3600 * 1000);
  const result = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  if (caFile) await writeFile(caFile, result.cert, { mode: 0o644 });
  return { key: result.private, cert: result.cert };
}
