/**
 * Runs the platform simulator (GeoGrid v3, or OZmap v2 with `--platform ozmap`) as its own
 * process for the demo and the benchmarks:
 *   node --import tsx src/simulator/main.ts --seed 1 --size 100000 --port 0 [--platform geogrid|ozmap] [--https] [--ca-file f]
 *     [--token t] [--rpm N] [--concurrency N] [--error-rate r] [--hang-rate r] [--malformed-rate r] [--latency ms]
 *     [--drip-rate r --drip-every ms] [--no-batch-reads] [--login l --password p --token-requests N]
 * Prints one JSON line `{"url":…,"origin":…,"counts":…}` on stdout when ready.
 */
import { Command, Option } from 'commander';
import { countNetwork } from './network-generator.ts';
import { startSimulator } from './simulator.server.ts';

const program = new Command()
  .name('platform-simulator')
  .addOption(new Option('--platform <platform>', 'the platform whose API is served').choices(['geogrid', 'ozmap']).default('geogrid'))
  .option('--seed <n>', 'data seed', '1')
  .option('--size <n>', 'approximate poles + boxes + splitters + ports + customers', '10000')
  .option('--port <n>', 'port (0 = any free port)', '0')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--https', 'serve TLS with a generated self-signed certificate', false)
  .option('--ca-file <path>', 'with --https, where to write the certificate clients must trust')
  .option('--token <token>', 'the API key the simulator accepts (GeoGrid `api-key`, OZmap `Authorization`)', 'sim-token')
  .option('--login <login>', 'OZmap: the login users/login accepts', 'mapsync')
  .option('--password <password>', 'OZmap: the password users/login accepts', 'sim-password')
  .option('--token-requests <n>', 'OZmap: a login token stops working after N API requests (0 = never)', '0')
  .option('--rpm <n>', 'requests per minute before 429', '300')
  .option('--concurrency <n>', 'requests in flight before 429', '5')
  .option('--error-rate <r>', 'share of requests answered 500', '0')
  .option('--hang-rate <r>', 'share of requests never answered', '0')
  .option('--malformed-rate <r>', 'share of records served malformed', '0')
  .option('--latency <ms>', 'added latency per answer', '0')
  .option('--drip-rate <r>', 'share of answers whose body drips in slowly', '0')
  .option('--drip-every <ms>', 'with --drip-rate, the pause between 16-byte chunks', '500')
  .option('--no-batch-reads', 'refuse (404) the batch port-count read GET /equipamentos/itemRede/portas?itensRede[]=…')
  .parse();

const opts = program.opts<Record<string, string | boolean | undefined>>();
const num = (key: string) => Number(opts[key]);

const started = performance.now();
const simulator = await startSimulator({
  platform: opts.platform === 'ozmap' ? 'ozmap' : 'geogrid',
  ozmapAuth: {
    login: String(opts.login),
    password: String(opts.password),
    ...(num('tokenRequests') > 0 ? { tokenRequests: num('tokenRequests') } : {}),
  },
  seed: num('seed'),
  size: num('size'),
  port: num('port'),
  host: String(opts.host),
  https: Boolean(opts.https),
  ...(typeof opts.caFile === 'string' ? { caFile: opts.caFile } : {}),
  token: String(opts.token),
  limits: { requestsPerMinute: num('rpm'), concurrency: num('concurrency') },
  batchReads: opts.batchReads !== false,
  faults: {
    errorRate: num('errorRate'),
    hangRate: num('hangRate'),
    malformedRate: num('malformedRate'),
    latencyMs: num('latency'),
    ...(num('dripRate') > 0 ? { drip: { rate: num('dripRate'), everyMs: num('dripEvery') } } : {}),
  },
});

process.stdout.write(
  `${JSON.stringify({
    platform: simulator.platform,
    url: simulator.url,
    origin: simulator.origin,
    caFile: typeof opts.caFile === 'string' ? opts.caFile : null,
    counts: countNetwork(simulator.network),
    readyMs: Math.round(performance.now() - started),
  })}\n`,
);

const stop = () => {
  simulator.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
