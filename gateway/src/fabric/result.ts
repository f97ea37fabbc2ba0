/** A transaction result (UTF-8 JSON from the chaincode) as a value; non-JSON text is returned as a string. */
export function parseResult(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes).toString('utf8');
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
