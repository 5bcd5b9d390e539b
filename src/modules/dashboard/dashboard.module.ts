import { DynamicModule, Injectable, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import {
  AbstractLoader,
  ExpressLoader,
  ServeStaticModule,
  ServeStaticModuleOptions,
} from '@nestjs/serve-static';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DASHBOARD_PATH, dashboardHeaders } from './dashboard-headers';

/**
 * Where `npm run build` puts the dashboard (web/, built by Vite): dist/web,
 * next to the compiled server in dist/src. Three levels up from this file is
 * dist/ when it runs compiled, the project root when it runs from source
 * (ts-jest); both lead to the same dist/web.
 */
function builtDashboardDir(): string {
  const up = resolve(__dirname, '..', '..', '..');
  return join(basename(up) === 'dist' ? up : join(up, 'dist'), 'web');
}

@Injectable()
class DashboardNotBuilt implements OnApplicationBootstrap {
  private readonly logger = new Logger('Dashboard');

  constructor(private readonly dir: string) {}

  onApplicationBootstrap(): void {
    this.logger.warn(`No dashboard build in ${this.dir} (run npm run build): ${DASHBOARD_PATH} answers 404`);
  }
}

/**
 * The web dashboard, a static single-page app over the public REST API,
 * served at /dashboard in the `api` and `all` roles. The files are served by
 * express.static mounted after every API route, so no API request passes
 * through it. Hashed assets are cached for a year (immutable), index.html is
 * revalidated on every load, and every other path below /dashboard is the
 * SPA's client-side route (index.html) — except under /dashboard/assets/,
 * where a missing file is the API's JSON 404. /dashboard redirects to
 * /dashboard/.
 */
@Module({})
export class DashboardModule {
  static forRoot(dir = builtDashboardDir()): DynamicModule {
    if (!existsSync(join(dir, 'index.html'))) {
      return {
        module: DashboardModule,
        providers: [{ provide: DashboardNotBuilt, useFactory: () => new DashboardNotBuilt(dir) }],
      };
    }
    const options: ServeStaticModuleOptions = {
      rootPath: dir,
      serveRoot: DASHBOARD_PATH,
      renderPath: '{*path}',
      exclude: [`${DASHBOARD_PATH}/assets/{*path}`],
      serveStaticOptions: {
        index: false,
        fallthrough: true,
        setHeaders: (res: { setHeader(name: string, value: string): void }, path: string) => {
          for (const [name, value] of Object.entries(dashboardHeaders(dir, path))) res.setHeader(name, value);
        },
      },
    };
    return {
      module: DashboardModule,
      imports: [
        // The app runs on Express (SPEC §1). ServeStaticModule picks its loader
        // when its providers are built, which in a testing module is before the
        // HTTP adapter exists (it would pick the no-op loader); its Express
        // loader reads the adapter only at init, so tests serve what production does.
        ServeStaticModule.forRootAsync({
          useFactory: () => [options],
          extraProviders: [{ provide: AbstractLoader, useClass: ExpressLoader }],
        }),
      ],
    };
  }
}
