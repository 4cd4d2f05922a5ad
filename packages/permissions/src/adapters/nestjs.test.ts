import type { AddressInfo } from 'node:net';
import { isAppError } from '@app/core';
import {
  Controller,
  Delete,
  Get,
  HttpCode,
  type INestApplication,
  Module,
  Param,
  Req,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Request } from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { CASES, expectOutcome, guardFixture } from './__fixtures__/guard-fixture.js';
import { NEST_PERMISSIONS_OPTIONS, nestPermissions, PermissionSubject, permissionSubject } from './nestjs.js';

const permissions = await guardFixture();
const getSubject = (req: Request) => req.header('x-user');
let ran = 0;

// Options given up front.
const staticGuard = nestPermissions<Request>({ permissions, getSubject });
// Options injected from the module's NEST_PERMISSIONS_OPTIONS provider.
const injectedGuard = nestPermissions<Request>();
const broken = nestPermissions<Request>({
  permissions: { check: () => Promise.reject(new Error('down')) },
  getSubject: () => 'alice',
});

@Controller()
class RoomsController {
  @Delete('rooms/:roomId')
  @HttpCode(200)
  @UseGuards(staticGuard.require('delete', 'room', { param: 'roomId' }))
  remove(@Req() req: Request) {
    ran++;
    return { ok: true, subject: permissionSubject(req) };
  }

  @Delete('injected/rooms/:roomId')
  @HttpCode(200)
  @UseGuards(injectedGuard.require('delete', 'room', { param: 'roomId' }))
  removeInjected(@PermissionSubject() subject: string) {
    ran++;
    return { ok: true, subject };
  }

  @Get('broken/:id')
  @UseGuards(broken.require('read', 'room', { param: 'id' }))
  brokenRoute(@Param('id') _id: string) {
    ran++;
    return { ok: true };
  }
}

@Module({
  controllers: [RoomsController],
  providers: [{ provide: NEST_PERMISSIONS_OPTIONS, useFactory: () => ({ permissions, getSubject }) }],
})
class TestModule {}

const app: INestApplication = await NestFactory.create(TestModule, { logger: false });
await app.listen(0, '127.0.0.1');
const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
afterAll(() => app.close());

describe.each([
  ['options given', ''],
  ['options injected', '/injected'],
])('@app/permissions/nestjs, %s (ephemeral port)', (_name, prefix) => {
  it.each(CASES)('DELETE %s as %s -> %i %s', async (path, user, status, code) => {
    const before = ran;
    const res = await fetch(base + prefix + path, {
      method: 'DELETE',
      headers: user ? { 'x-user': user } : {},
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (code === undefined) expect(body.subject).toBe(user);
    delete body.subject;
    expectOutcome(res.status, body, status, code);
    expect(ran - before).toBe(code === undefined ? 1 : 0);
  });
});

describe('@app/permissions/nestjs', () => {
  it('lets store failures reach Nest (500), never running the route', async () => {
    const before = ran;
    const res = await fetch(`${base}/broken/1`);
    expect(res.status).toBe(500);
    expect(ran).toBe(before);
  });

  it('fails at bootstrap when a guard without options finds no NEST_PERMISSIONS_OPTIONS provider', async () => {
    @Controller()
    class Unprovided {
      @Get('x')
      @UseGuards(nestPermissions().require('read', 'room'))
      x() {
        return { ok: true };
      }
    }
    @Module({ controllers: [Unprovided] })
    class Bare {}
    await expect(NestFactory.create(Bare, { logger: false, abortOnError: false })).rejects.toThrow(
      /NEST_PERMISSIONS_OPTIONS|dependencies/,
    );
  });

  it('rejects a malformed action or resource type when the route is defined', () => {
    for (const [action, type] of [
      ['de lete', 'room'],
      ['delete', 'ro*om'],
    ] as const) {
      let thrown: unknown;
      try {
        injectedGuard.require(action, type);
      } catch (error) {
        thrown = error;
      }
      expect(isAppError(thrown, '@app/permissions')).toBe(true);
    }
  });
});
