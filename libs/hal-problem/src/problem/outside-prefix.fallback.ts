import {
  type ArgumentsHost,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { ProblemExceptionFilter } from './problem-exception.filter';
import { routerNotFound } from './router-not-found';

/** The ArgumentsHost of a request that no Nest route or handler saw. */
function httpHost(request: unknown, response: unknown): ArgumentsHost {
  const args = [request, response];
  const http = {
    getRequest: <T>() => request as T,
    getResponse: <T>() => response as T,
    getNext: <T>() => undefined as T,
  };
  return {
    getArgs: <T extends unknown[]>() => args as T,
    getArgByIndex: <T>(index: number) => args[index] as T,
    getType: <T extends string>() => 'http' as T,
    switchToHttp: () => http,
    switchToRpc: () => {
      throw new Error('not an RPC context');
    },
    switchToWs: () => {
      throw new Error('not a WebSocket context');
    },
  };
}

/**
 * With a global prefix, Nest on Express registers its 404 handler under the
 * prefix only, so `GET /elsewhere` falls through to Express's HTML 404. This
 * adds one last handler, after Nest's own (it runs at bootstrap, once the
 * router is registered), that answers such requests with the same 404
 * problem. Fastify's 404 handler already covers every path.
 */
@Injectable()
export class OutsidePrefixFallback implements OnApplicationBootstrap {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly appConfig: ApplicationConfig,
    private readonly filter: ProblemExceptionFilter,
  ) {}

  onApplicationBootstrap(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (
      !adapter ||
      !this.appConfig.getGlobalPrefix() ||
      adapter.getType() !== 'express'
    )
      return;
    adapter.use((request: object, response: unknown) => {
      // The router's 404, as Nest's handler would have raised it.
      this.filter.catch(
        routerNotFound(adapter, request),
        httpHost(request, response),
      );
    });
  }
}
