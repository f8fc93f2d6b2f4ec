export { HalProblemModule } from './hal-problem.module';
export type { HalProblemModuleOptions } from './hal-problem-module-options.interface';
export type { HalProblemModuleExtras } from './hal-problem.module-definition';
