import type { Command } from 'commander';
import { ConfigError } from '../../config/config-error.ts';
import { demoDecision } from '../../service/demo-rule.ts';
import { EXIT, printJson, println, type CliRuntime } from '../cli-runtime.ts';

/** Platforms with an adapter today; the config already names the others. */
const SUPPORTED_PLATFORMS = new Set(['geogrid', 'ozmap', 'simulator']);

export function registerConfigCommand(program: Command, cli: CliRuntime): void {
  const config = program.command('config').description('configuration in config/');
  config
    .command('check')
    .description('validate config/ and say exactly what is wrong, with the path of each bad key')
    .option('-d, --dir <folder>', 'config folder (env MAPSYNC_CONFIG_DIR, default ./config)')
    .option('--json', 'print the result as JSON')
    .action(async (options: { dir?: string; json?: boolean }) => {
      // Loaded when the command runs: `mapsync --help` and the other commands start without them.
      const { defaultConfigDirectory, loadConfig, requireConfigDirectory } = await import('../../config/config.loader.ts');
      const directory = options.dir ?? defaultConfigDirectory(cli.env);
      try {
        if (options.dir !== undefined || cli.env.MAPSYNC_CONFIG_DIR) requireConfigDirectory(directory);
        const loaded = loadConfig(directory, cli.env);
        const summary = loaded.config.integrations.map((i) => ({
          id: i.id,
          platform: i.platform,
          elements: i.elements,
          schedule: `${i.schedule} (${i.timezone})`,
        }));
        if (options.json) return printJson(cli, { valid: true, directory, files: loaded.files, integrations: summary });
        println(cli.stdout, `Configuration in ${directory} is valid (${loaded.files.length} file(s)).`);
        if (summary.length === 0) {
          const decision = demoDecision(cli.env, 0);
          println(
            cli.stdout,
            decision.demo
              ? 'No integrations: `mapsync serve` would start in demo mode.'
              : 'No integrations: `mapsync serve` would not start the demo (it runs only on the embedded database, or with MAPSYNC_DEMO=1).',
          );
        }
        for (const item of summary) {
          println(cli.stdout, `  ${item.id}: ${item.platform}, ${item.elements.join(', ')}, ${item.schedule}`);
        }
        for (const item of summary.filter((i) => !SUPPORTED_PLATFORMS.has(i.platform))) {
          println(cli.stderr, `warning: ${item.id}: the ${item.platform} adapter is not available yet; its runs will fail until it is`);
        }
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        cli.exitCode = EXIT.usage;
        if (options.json) return printJson(cli, { valid: false, directory, problems: error.problems });
        println(cli.stderr, error.message);
      }
    });
}
