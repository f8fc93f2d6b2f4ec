import { Logger } from '@nestjs/common';
import { createSampleApp } from './bootstrap';
import { ConfigError, loadSampleConfig } from './config/sample-config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadSampleConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      // One clear line naming the variable, then a non-zero exit.
      process.stderr.write(`Invalid configuration: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createSampleApp(config);
  app.enableShutdownHooks();
  await app.listen(config.port, '0.0.0.0');
  const url = await app.getUrl();
  new Logger('Sample').log(
    `Orders sample listening on ${url} (${config.httpAdapter})`,
  );
}

void main();
