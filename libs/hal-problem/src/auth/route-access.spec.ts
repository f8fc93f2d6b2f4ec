import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Authenticated, Public, Scopes } from './auth.decorators';
import { routeAccess } from './route-access';

type Handler = (...args: never[]) => unknown;

function accessOf(controller: new () => object, name: string) {
  const handler = (controller.prototype as Record<string, Handler>)[name];
  return routeAccess(new Reflector(), [handler, controller]);
}

describe('routeAccess', () => {
  @Controller()
  @Public()
  class OpenController {
    @Get() open() {}
    @Get() @Scopes('admin') admin() {}
    @Get() @Authenticated() me() {}
    @Get() @Public() @Scopes('x') both() {}
  }

  @Controller()
  @Scopes(['a', 'b'])
  class ScopedController {
    @Get() inherits() {}
    @Get() @Public() health() {}
    @Get() @Authenticated() tokenOnly() {}
    @Get() @Scopes('c') own() {}
  }

  @Controller()
  class PlainController {
    @Get() plain() {}
  }

  it("lets a handler's token requirement win over its controller's @Public", () => {
    expect(accessOf(OpenController, 'open').isPublic).toBe(true);
    expect(accessOf(OpenController, 'admin')).toEqual({
      isPublic: false,
      declaresToken: true,
      scopes: ['admin'],
    });
    expect(accessOf(OpenController, 'me')).toEqual({
      isPublic: false,
      declaresToken: true,
      scopes: undefined,
    });
  });

  it('takes the closed one of two contradicting decorators on one target', () => {
    expect(accessOf(OpenController, 'both')).toMatchObject({
      isPublic: false,
      scopes: ['x'],
    });
  });

  it("lets a handler's @Public win over its controller's scopes", () => {
    expect(accessOf(ScopedController, 'health').isPublic).toBe(true);
    expect(accessOf(ScopedController, 'inherits').scopes).toEqual(['a', 'b']);
    expect(accessOf(ScopedController, 'tokenOnly').scopes).toEqual(['a', 'b']);
    expect(accessOf(ScopedController, 'own').scopes).toEqual(['c']);
  });

  it('declares nothing for a route without auth decorators', () => {
    expect(accessOf(PlainController, 'plain')).toEqual({
      isPublic: false,
      declaresToken: false,
      scopes: undefined,
    });
  });
});

describe('@Scopes()', () => {
  it('refuses what could never be granted nor named in a challenge', () => {
    // Applied where declared: the class fails to load, naming the scope.
    const declare = (scopes: string | string[]) => () =>
      Scopes(scopes)(class {});
    for (const scope of ['orders write', 'a"b', 'a\\b', '', 'café'])
      expect(declare(scope)).toThrow(/not a scope token/);
    expect(declare(['orders:read', 'reports:write'])).not.toThrow();
  });
});
