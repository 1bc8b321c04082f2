/** Read the release source this process serves: prompt, tool schemas and orchestration flow. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface ToolSpec {
  name: string;
  schema: string;
  risk: 'low' | 'medium' | 'high';
  external?: boolean;
}

export interface LoadedRelease {
  agent: string;
  version: string;
  model: string;
  systemPrompt: string;
  tools: Array<ToolSpec & { parameters: object }>;
  flow: { maxToolRounds: number; outcomeTools: Record<string, string>; defaultOutcome: string };
}

export async function loadRelease(dir: string): Promise<LoadedRelease> {
  const source = parse(await readFile(join(dir, 'agent.yaml'), 'utf8')) as {
    agent: string;
    version: string;
    model: { name: string };
    prompts: { system: string };
    tools: ToolSpec[];
    orchestration: { path: string };
  };
  const tools = await Promise.all(
    source.tools.map(async (t) => ({ ...t, parameters: JSON.parse(await readFile(join(dir, t.schema), 'utf8')) as object })),
  );
  return {
    agent: source.agent,
    version: String(source.version),
    model: source.model.name,
    systemPrompt: await readFile(join(dir, source.prompts.system), 'utf8'),
    tools,
    flow: JSON.parse(await readFile(join(dir, source.orchestration.path, 'flow.json'), 'utf8')) as LoadedRelease['flow'],
  };
}
