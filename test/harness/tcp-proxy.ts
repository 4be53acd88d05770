/**
 * A TCP proxy for tests, in front of the run's real PostgreSQL, that can drop a
 * connection silently, as an idle timeout in a NAT or a firewall does: both sockets
 * stay open and nothing more goes through, either way, and neither end is told.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

interface Connection {
  client: Socket;
  server: Socket;
  /** What the client sent, as latin1 text: PostgreSQL's query messages carry their SQL in clear. */
  sent: string;
  frozen: boolean;
}

export interface TcpProxy {
  /** The upstream URL with its host and port replaced by the proxy's. */
  url: string;
  /** What the client sent on each connection so far, as latin1 text. */
  sent(): string[];
  /** Freezes the open connections whose client has sent something `match` accepts; returns how many. */
  freeze(match: (sent: string) => boolean): number;
  /** Freezes those, and any later connection once it matches, until the returned function is called (the frozen stay frozen). */
  freezeFromNowOn(match: (sent: string) => boolean): () => void;
  close(): Promise<void>;
}

/** A proxy to the host and port of `upstreamUrl` (e.g. a postgres:// URL). */
export async function startTcpProxy(upstreamUrl: string): Promise<TcpProxy> {
  const upstream = new URL(upstreamUrl);
  const connections = new Set<Connection>();
  const rules = new Set<(sent: string) => boolean>();
  const check = (connection: Connection) => {
    if (!connection.frozen && [...rules].some((match) => match(connection.sent))) connection.frozen = true;
  };

  const listener: Server = createServer((client) => {
    const server = connect(Number(upstream.port || 5432), upstream.hostname);
    const connection: Connection = { client, server, sent: '', frozen: false };
    connections.add(connection);
    client.on('data', (chunk: Buffer) => {
      connection.sent += chunk.toString('latin1');
      check(connection);
      if (!connection.frozen) server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (!connection.frozen) client.write(chunk);
    });
    // A frozen connection passes nothing on, not even its end: the other side never learns.
    const end = (other: Socket) => () => {
      if (!connection.frozen) other.destroy();
    };
    client.on('close', end(server));
    server.on('close', end(client));
    client.on('error', () => {});
    server.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', resolve);
  });
  const proxied = new URL(upstreamUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String((listener.address() as AddressInfo).port);

  return {
    url: proxied.toString(),
    sent: () => [...connections].map((c) => c.sent),
    freeze(match) {
      const caught = [...connections].filter((c) => !c.frozen && !c.client.destroyed && match(c.sent));
      for (const connection of caught) connection.frozen = true;
      return caught.length;
    },
    freezeFromNowOn(match) {
      rules.add(match);
      for (const connection of connections) check(connection);
      return () => void rules.delete(match);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client, server } of connections) {
          client.destroy();
          server.destroy();
        }
        listener.close(() => resolve());
      }),
  };
}
