// A local stand-in for the SES API v1 (AWS query protocol: form-encoded POST, XML answers), for driving the
// real `@aws-sdk/client-ses` SESClient. It records each call's parameters and can answer with an error.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSesV1 {
  url: string;
  /** Each call's form parameters, in order (`Action`, `RawMessage.Data`, `Destinations.member.1`...). */
  calls: Array<Record<string, string>>;
  /** The next calls answer with these errors (HTTP status and the query-protocol error code), one each. */
  fail(...errors: Array<{ status: number; code: string }>): void;
  reset(): void;
  close(): Promise<void>;
}

const NS = 'http://ses.amazonaws.com/doc/2010-12-01/';

export async function startFakeSesV1(): Promise<FakeSesV1> {
  const calls: Array<Record<string, string>> = [];
  const faults: Array<{ status: number; code: string }> = [];
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      calls.push(params);
      const fault = faults.shift();
      res.setHeader('content-type', 'text/xml');
      if (fault) {
        res.statusCode = fault.status;
        res.end(
          `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${fault.code}</Code><Message>injected</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
        );
        return;
      }
      const action = params.Action ?? '';
      const id = () => `v1-${++n}`;
      let result = `<MessageId>${id()}</MessageId>`;
      if (action === 'SendBulkTemplatedEmail') {
        const count = Object.keys(params).filter((k) =>
          /^Destinations\.member\.\d+\.Destination\.ToAddresses\.member\.1$/.test(k),
        ).length;
        result = `<Status>${Array.from({ length: count }, () => `<member><Status>Success</Status><MessageId>${id()}</MessageId></member>`).join('')}</Status>`;
      }
      res.end(
        `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    fail: (...errors) => faults.push(...errors),
    reset: () => {
      calls.length = 0;
      faults.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
