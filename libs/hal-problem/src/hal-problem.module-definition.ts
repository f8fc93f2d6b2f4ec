import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { HalProblemModuleOptions } from './hal-problem-module-options.interface';

/** Extras accepted by `forRoot`/`forRootAsync` besides the options themselves. */
export interface HalProblemModuleExtras {
  /** Register the module globally, so feature modules can inject its providers. */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass: HalProblemConfigurableModule,
  MODULE_OPTIONS_TOKEN: HAL_PROBLEM_MODULE_OPTIONS,
  OPTIONS_TYPE: HAL_PROBLEM_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: HAL_PROBLEM_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<HalProblemModuleOptions>({
  moduleName: 'HalProblem',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createHalProblemOptions')
  .setExtras<HalProblemModuleExtras>(
    { isGlobal: false },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
    }),
  )
  .build();
