import { bulkUpdateRoutes } from './routes/bulk-updates';
import { offlineExportRoutes } from './routes/offline-exports';
import type { RouteModule } from './server';

/** Every feature's routes, mounted under /api/v4. */
export const apiRoutes: RouteModule[] = [offlineExportRoutes, bulkUpdateRoutes];
