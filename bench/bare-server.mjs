// The limit for bench/api: a bare Fastify route answering a constant, in its own process, as the API runs.
import Fastify from 'fastify';

const app = Fastify();
app.get('/constant', async () => ({ ok: true }));
const address = await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
console.log(address);
