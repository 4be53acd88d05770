import http from 'node:http';
import net from 'node:net';

export interface Outgoing {
  method: string;
  /** Sent as is: already percent-encoded (or deliberately not). */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface Answer {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

/** Requests to one listening server over a few keep-alive connections, as a busy client would send them. */
export function httpClient(port: number, connections: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  return {
    send(request: Outgoing): Promise<Answer> {
      return new Promise((resolve, reject) => {
        const hasHost = Object.keys(request.headers).some((name) => name.toLowerCase() === 'host');
        const outgoing = http.request({ agent, host: '127.0.0.1', port, method: request.method, path: request.path, headers: request.headers, setHost: !hasHost }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode!, contentType: res.headers['content-type'], body: Buffer.concat(chunks) }));
          res.on('error', reject);
        });
        outgoing.on('error', reject);
        outgoing.end(request.body);
      });
    },
    close: () => agent.destroy(),
  };
}

/**
 * Writes bytes no HTTP client would send on a fresh connection and reads the
 * answer until the server closes it (the bytes must make it close: a parse error,
 * or `Connection: close`).
 */
export function rawExchange(port: number, bytes: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const response = Buffer.concat(chunks);
      const headerEnd = response.indexOf('\r\n\r\n');
      const head = response.subarray(0, headerEnd).toString('latin1').split('\r\n');
      const contentType = head.find((line) => /^content-type:/i.test(line))?.replace(/^content-type:\s*/i, '');
      resolve({ status: Number(head[0]?.split(' ')[1]), contentType, body: response.subarray(headerEnd + 4) });
    });
    socket.write(bytes);
  });
}
