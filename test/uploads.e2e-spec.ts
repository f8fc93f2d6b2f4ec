import {
  Controller,
  Module,
  Post,
  Req,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import multipart from '@fastify/multipart';
import type { MultipartFile } from '@fastify/multipart';
import {
  Consumes,
  HalLink,
  HalProblemModule,
  HalResource,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';

const FILE_SIZE = 1024;

@HalLink('self', '/uploads/{name}')
class UploadResource {}

/** Express: multer through Nest's FileInterceptor. */
@Controller('uploads')
class ExpressUploadsController {
  @Post()
  @Consumes('multipart/form-data')
  @HalResource(UploadResource)
  @UseInterceptors(
    FileInterceptor('file', {
      limits: { fileSize: FILE_SIZE, files: 1, fields: 1 },
    }),
  )
  upload(@UploadedFile() file?: { originalname: string; size: number }) {
    return { name: file?.originalname ?? 'none', size: file?.size ?? 0 };
  }
}

type MultipartRequest = { files(): AsyncIterableIterator<MultipartFile> };

/** Fastify: @fastify/multipart, read in the handler. */
@Controller('uploads')
class FastifyUploadsController {
  @Post()
  @Consumes('multipart/form-data')
  @HalResource(UploadResource)
  async upload(@Req() request: MultipartRequest) {
    let last = { name: 'none', size: 0 };
    for await (const part of request.files())
      last = { name: part.filename, size: (await part.toBuffer()).length };
    return last;
  }

  /** No @Consumes: the plugin's own refusal of a body that is not multipart. */
  @Post('any')
  @HalResource(UploadResource)
  async any(@Req() request: MultipartRequest) {
    return this.upload(request);
  }
}

@Module({
  imports: [HalProblemModule.forRoot()],
  controllers: [ExpressUploadsController],
})
class ExpressUploadsModule {}

@Module({
  imports: [HalProblemModule.forRoot()],
  controllers: [FastifyUploadsController],
})
class FastifyUploadsModule {}

function form(...files: [field: string, content: string][]): FormData {
  const body = new FormData();
  for (const [field, content] of files)
    body.append(field, new Blob([content]), `${field}.txt`);
  return body;
}

const BOUNDARY = 'multipart/form-data; boundary=b0undary';
const CASES = ADAPTERS.flatMap((adapter) =>
  [true, false].map((strictBodies) => [adapter, strictBodies] as const),
);

describe.each(CASES)(
  'uploads on %s (strict bodies: %s)',
  (adapter, strictBodies) => {
    let running: RunningApp;
    const post = (path: string, init: RequestInit) =>
      fetch(`${running.baseUrl}${path}`, { method: 'POST', ...init });

    beforeAll(async () => {
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({
          imports: [
            adapter === 'fastify' ? FastifyUploadsModule : ExpressUploadsModule,
          ],
        }),
        async (app) => {
          if (adapter === 'fastify')
            await (app as NestFastifyApplication).register(multipart, {
              limits: { fileSize: FILE_SIZE, files: 1, fields: 1 },
            });
        },
        { strictBodies },
      );
    });
    afterAll(() => running.close());

    it('answers a valid upload with the handler HAL result', async () => {
      const response = await post('/uploads', {
        body: form(['file', 'hello']),
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('content-type')).toMatch(
        /^application\/hal\+json/,
      );
      expect(await response.json()).toMatchObject({
        name: 'file.txt',
        size: 5,
      });
    });

    it('answers a file over the limit with 413', async () => {
      const body = form(['file', 'x'.repeat(FILE_SIZE + 1)]);
      const problem = await expectProblem(
        await post('/uploads', { body }),
        413,
      );
      expect(problem).toMatchObject({
        type: 'about:blank',
        title: 'Content Too Large',
        detail: 'An uploaded file is larger than the server accepts.',
      });
    });

    // RFC 9110 §15.5.14: more files than the server takes is content larger
    // than it will process, a 413 on both (Nest maps multer's count to 400).
    it('answers more files than allowed with 413', async () => {
      const body = form(['file', 'a'], ['file', 'b']);
      const problem = await expectProblem(
        await post('/uploads', { body }),
        413,
      );
      expect(problem).toMatchObject({
        type: 'about:blank',
        title: 'Content Too Large',
        detail: 'The request has more files than the server accepts.',
      });
    });

    it('answers more form fields than allowed with 413', async () => {
      const body = form(['file', 'a']);
      body.append('one', '1');
      body.append('two', '2');
      const problem = await expectProblem(
        await post('/uploads', { body }),
        413,
      );
      expect(problem).toMatchObject({
        type: 'about:blank',
        title: 'Content Too Large',
        detail: 'The request has more form fields than the server accepts.',
      });
    });

    it.each([
      ['no boundary', 'multipart/form-data', 'abc'],
      [
        'a truncated body',
        BOUNDARY,
        '--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
      ],
      [
        'another boundary than declared',
        BOUNDARY,
        '--other\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc\r\n--other--\r\n',
      ],
    ])('answers %s with 400, never a 500', async (_, type, body) => {
      const response = await post('/uploads', {
        headers: { 'content-type': type },
        body,
      });
      await expectProblem(response, 400);
    });

    it('answers a body that is not multipart with 415 (@Consumes)', async () => {
      const response = await post('/uploads', {
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      await expectProblem(response, 415);
    });

    if (adapter === 'fastify')
      it('answers the plugin refusing a body that is not multipart with 415', async () => {
        const response = await post('/uploads/any', {
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        await expectProblem(response, 415);
      });
  },
);
