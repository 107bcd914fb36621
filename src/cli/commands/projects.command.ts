import type { Command } from 'commander';
import { printJson, println, type CliRuntime } from '../cli-runtime.ts';

export function registerProjectsCommand(program: Command, cli: CliRuntime): void {
  program
    .command('projects')
    .description("list the platform's projects/folders of an integration, to pick the one to link")
    .argument('<integration>', 'integration id from config/')
    .option('--json', 'print JSON')
    .option('-d, --dir <folder>', 'config folder (env MAPSYNC_CONFIG_DIR, default ./config)')
    .action(async (integrationId: string, options: { json?: boolean; dir?: string }) => {
      // Loaded when the command runs: `mapsync --help` and the other commands start without them.
      const [{ createPlatformAdapter }, { platformCaFromEnv }, { cliLogger, loadIntegration }] = await Promise.all([
        import('../../platforms/adapter-factory.ts'),
        import('../../service/platform-ca.ts'),
        import('../cli-integration.ts'),
      ]);
      const { integration } = loadIntegration(cli, integrationId, options.dir);
      const adapter = createPlatformAdapter(integration, { logger: cliLogger(cli), ca: platformCaFromEnv(cli.env) });
      try {
        const wanted = 'link' in integration.project ? integration.project.link.toLowerCase() : null;
        const projects = (await adapter.listProjects()).map((project) => ({
          externalId: project.externalId,
          name: project.name,
          parentName: project.parentName,
          linked: wanted !== null && (project.externalId.toLowerCase() === wanted || project.name.toLowerCase() === wanted),
        }));
        if (options.json) return printJson(cli, { integration: integration.id, project: integration.project, projects });
        println(cli.stdout, `${integration.id} (${integration.platform}, ${integration.apiUrl}): ${projects.length} project(s)/folder(s)`);
        println(cli.stdout, `  ${'id'.padEnd(10)} ${'name'.padEnd(32)} parent`);
        for (const project of projects) {
          println(cli.stdout, `${project.linked ? '* ' : '  '}${project.externalId.padEnd(10)} ${project.name.padEnd(32)} ${project.parentName ?? ''}`);
        }
        if ('create' in integration.project) println(cli.stdout, `config creates the project "${integration.project.create}" in mapsync (nothing is created on the platform)`);
        else if (!projects.some((project) => project.linked)) println(cli.stderr, `config links "${integration.project.link}", which is not in this list`);
        else println(cli.stdout, '* = the project config/ links');
      } finally {
        await adapter.close?.();
      }
    });
}
