import 'reflect-metadata';
import { NEST_PERMISSIONS_OPTIONS, nestPermissions, PermissionSubject } from '@app/permissions/nestjs';
import {
  type AppServices,
  bearerToken,
  errorAnswer,
  type HttpError,
  httpError,
  routeNotFound,
} from '@app-examples/shared';
import {
  type ArgumentsHost,
  Body,
  Catch,
  Controller,
  Delete,
  type DynamicModule,
  type ExceptionFilter,
  Get,
  HttpCode,
  HttpException,
  type INestApplication,
  Inject,
  Module,
  type NestApplicationOptions,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { type AbstractHttpAdapter, HttpAdapterHost, NestFactory } from '@nestjs/core';

/** The injection token of the services built by `createServices()` (`@app-examples/shared`). */
export const APP_SERVICES = Symbol('AppServices');

/** What the app reads from the Express request (Nest's default platform). */
interface HttpRequest {
  method?: string;
  path?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, unknown>;
  ip?: string;
}

/** The only Express response calls the app makes itself: an empty 204, or a JSON error. */
interface HttpResponse {
  status(code: number): { end(): void; json(body: unknown): void };
}

const errorBody = (status: number, code: string, message: string) =>
  new HttpException({ error: { status, code, message } }, status);

const header = (req: HttpRequest, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const userOf = (services: AppServices, req: HttpRequest) =>
  services.auth.session(bearerToken(header(req, 'authorization')));

// The options come from the NEST_PERMISSIONS_OPTIONS provider below, so the guard gets the permission service
// (and the sessions) from Nest's DI.
const guard = nestPermissions<HttpRequest>();

@Controller('auth')
class AuthController {
  constructor(@Inject(APP_SERVICES) private readonly services: AppServices) {}

  @Post('code')
  @HttpCode(200)
  sendCode(@Body() body: { phone?: unknown } | undefined, @Req() req: HttpRequest) {
    return this.services.auth.sendCode(String(body?.phone ?? ''), req.ip);
  }

  @Post('verify')
  @HttpCode(200)
  async verify(@Body() body: { phone?: unknown; code?: unknown; challengeId?: string } | undefined) {
    const { phone, code, challengeId } = body ?? {};
    const result = await this.services.auth.verifyCode(String(phone ?? ''), String(code ?? ''), challengeId);
    if (!result.ok) throw errorBody(401, result.reason, 'invalid or expired code');
    return { token: result.token, userId: result.userId };
  }
}

@Controller('rooms')
class RoomsController {
  constructor(@Inject(APP_SERVICES) private readonly services: AppServices) {}

  @Get()
  @UseGuards(guard.require('read', 'room'))
  async list() {
    return { rooms: await this.services.rooms.list() };
  }

  @Post()
  @UseGuards(guard.require('create', 'room'))
  create(@Body() body: { name?: unknown } | undefined, @PermissionSubject() userId: string) {
    const name = typeof body?.name === 'string' ? body.name.trim() : '';
    if (!name || name.length > 80) throw errorBody(400, 'INVALID_NAME', 'name: 1-80 characters');
    return this.services.rooms.create(name, userId); // 201, Nest's default for POST
  }

  @Delete(':roomId')
  @UseGuards(guard.require('delete', 'room', { param: 'roomId' }))
  async remove(@Param('roomId') roomId: string, @Res() res: HttpResponse) {
    if (await this.services.rooms.delete(roomId)) return res.status(204).end();
    const { status, body } = httpError(404, 'NOT_FOUND', 'no such room');
    res.status(status).json(body);
  }

  // Demo only: lets anyone signed in make themselves owner of a room (someone else's too), to show a scoped
  // role taking effect. Creating a room already makes its creator the owner.
  @Post(':roomId/owner')
  @HttpCode(200)
  async becomeOwner(@Param('roomId') roomId: string, @Req() req: HttpRequest) {
    const user = await userOf(this.services, req);
    if (!user) throw errorBody(401, 'UNAUTHENTICATED', 'authentication required');
    const room = await this.services.rooms.get(roomId);
    if (!room) throw errorBody(404, 'NOT_FOUND', 'no such room');
    await this.services.grantRoomOwner(user.userId, room.id);
    return { roomId: room.id, owner: user.userId };
  }
}

@Controller()
class MiscController {
  constructor(@Inject(APP_SERVICES) private readonly services: AppServices) {}

  @Get('flags')
  async flags(@Req() req: HttpRequest) {
    const user = await userOf(this.services, req);
    return { flags: this.services.flags.evaluateAll(user ? { userId: user.userId } : {}) };
  }

  @Get('dev/outbox')
  outbox() {
    return { sms: this.services.smsOutbox(), email: this.services.emailOutbox() };
  }
}

/** Whether an `HttpException`'s body already has the one error shape (the app's and the guard's do). */
function isErrorShape(body: unknown): body is HttpError['body'] {
  const error = (body as { error?: { status?: unknown; code?: unknown } } | null)?.error;
  return typeof error?.status === 'number' && typeof error.code === 'string';
}

/**
 * Every error in the one JSON shape `{ error: { status, code, message } }`: the app's and the guard's
 * `HttpException`s as they are, Nest's route-miss 404 as `routeNotFound`, body-parser errors (malformed JSON ->
 * 400 INVALID_JSON) and typed errors as `errorAnswer` maps them, anything else 500 (logged).
 */
@Catch()
class ApiErrorFilter implements ExceptionFilter {
  constructor(
    private readonly adapter: AbstractHttpAdapter,
    private readonly services: AppServices,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    let answer: { status: number; headers: Record<string, string>; body: HttpError['body'] };
    if (error instanceof HttpException && isErrorShape(error.getResponse())) {
      answer = { status: error.getStatus(), headers: {}, body: error.getResponse() as HttpError['body'] };
    } else if (error instanceof NotFoundException) {
      answer = routeNotFound(req.method ?? 'GET', req.path ?? req.url ?? '/');
    } else {
      const mapped = errorAnswer(error);
      if (mapped.unexpected) this.services.logger.error({ err: error }, 'unhandled error');
      answer = mapped;
    }
    const res = http.getResponse();
    for (const [name, value] of Object.entries(answer.headers)) this.adapter.setHeader(res, name, value);
    this.adapter.reply(res, answer.body, answer.status);
  }
}

/** The root module, configured by {@link appModule}. */
@Module({})
export class AppModule {}

/**
 * The root module with every controller, over the `AppServices` its factory gives (`createServices()`).
 *
 * @example
 * ```ts
 * const app = await NestFactory.create(appModule(() => createServices()));
 * ```
 */
export function appModule(factory: () => AppServices | Promise<AppServices>): DynamicModule {
  return {
    module: AppModule,
    controllers: [AuthController, RoomsController, MiscController],
    providers: [
      { provide: APP_SERVICES, useFactory: factory },
      {
        provide: NEST_PERMISSIONS_OPTIONS,
        inject: [APP_SERVICES],
        // The subject of every guarded route is the signed-in user of the bearer token (none -> 401).
        useFactory: (services: AppServices) => ({
          permissions: services.permissions,
          getSubject: async (req: HttpRequest) => (await userOf(services, req))?.userId,
        }),
      },
    ],
  };
}

/** The example API on NestJS (platform-express), initialised but not listening. */
export async function createApp(
  services: AppServices,
  options: NestApplicationOptions = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(
    appModule(() => services),
    options,
  );
  app.useGlobalFilters(new ApiErrorFilter(app.get(HttpAdapterHost).httpAdapter, services));
  return app.init();
}
