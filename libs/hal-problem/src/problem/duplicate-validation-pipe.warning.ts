import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  ValidationPipe,
} from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { ProblemConfig } from './problem.config';
import { ProblemValidationPipe } from './problem-validation.pipe';

/**
 * Warns once at bootstrap when the app registers a `ValidationPipe` of its
 * own globally (`APP_PIPE`, `app.useGlobalPipes()`) while the module's
 * validates: every argument is then validated twice, and where the app's
 * runs first (an `APP_PIPE` in the root module, which Nest reads before the
 * module) its failures reach the client without the module's codes and
 * JSON pointers, and its `whitelist` strips what the module would refuse.
 * A warning, not an error: the app still starts as it did.
 */
@Injectable()
export class DuplicateValidationPipeWarning implements OnApplicationBootstrap {
  private readonly logger = new Logger('HalProblem');

  constructor(
    private readonly appConfig: ApplicationConfig,
    private readonly config: ProblemConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.validation) return;
    const own = this.appConfig
      .getGlobalPipes()
      .some(
        (pipe) =>
          pipe instanceof ValidationPipe &&
          !(pipe instanceof ProblemValidationPipe),
      );
    if (!own) return;
    this.logger.warn(
      "A ValidationPipe is registered globally beside the module's: every argument is validated twice, and where it runs first its failures lack the module's error codes and JSON pointers. " +
        'Give its options to HalProblemModule.forRoot({ validation: {...} }) and remove it, or keep it and set validation: false.',
    );
  }
}
