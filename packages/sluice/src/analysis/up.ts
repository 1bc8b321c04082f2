/**
 * Telemetry and analysis in `sluice up`: ingest and the analysis API on the control app, the
 * analysis loop as a part after the control plane, the price table in `<data-dir>/prices.json`,
 * and the in-process gateway's request measurements fed straight into the aggregator.
 */
import { join } from 'node:path';
import { GATEWAY_ATTACHMENTS } from '../gateway/up.js';
import type { UpExtension, UpOptions } from '../server/up.js';
import { createAnalysisService } from './service.js';

export async function analysisUpExtension(options: UpOptions): Promise<UpExtension> {
  const analysis = await createAnalysisService({
    priceFile: join(options.dataDir, 'prices.json'),
    onError: (err) => options.log?.(`analysis loop: ${(err as Error).message}`),
  });
  const attachment: (typeof GATEWAY_ATTACHMENTS)[number] = (gw) => gw.measurements.subscribe(analysis.onGatewayEvent);
  GATEWAY_ATTACHMENTS.push(attachment);
  return {
    routes: [analysis.routes],
    parts: ({ plane }) => {
      const loop = analysis.attach(plane);
      return [
        {
          name: loop.name,
          start: () => loop.start(),
          async stop() {
            await loop.stop();
            // This run is over: a later `sluice up` in the same process attaches its own.
            const i = GATEWAY_ATTACHMENTS.indexOf(attachment);
            if (i >= 0) GATEWAY_ATTACHMENTS.splice(i, 1);
          },
        },
      ];
    },
  };
}
