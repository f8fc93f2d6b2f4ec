import { Injectable, type OnModuleInit } from '@nestjs/common';

/**
 * Mounts `/docs` and `/docs-json` while the app initialises, not when it is
 * created. Express serves handlers in the order they were mounted, and Nest
 * mounts, in `init()`: middleware, then its routes, then runs `onModuleInit`
 * hooks, then adds its 404 handler. Mounted here, the docs sit after the
 * sample's middleware (request id and access log, maintenance mode) and
 * before the 404 handler, as on Fastify, where middleware runs for every
 * route whenever it was added.
 */
@Injectable()
export class ApiDocsMount implements OnModuleInit {
  private mount?: () => void;

  /** Called before `init()`; `mount` runs once, during it. */
  schedule(mount: () => void): void {
    this.mount = mount;
  }

  onModuleInit(): void {
    const mount = this.mount;
    this.mount = undefined;
    mount?.();
  }
}
