/** The running version, from the version metadata binding (`CF_VERSION_METADATA`). */
export function versionOf(env: Pick<Env, "CF_VERSION_METADATA">): {
  id: string;
  tag: string;
  timestamp: string;
} {
  const meta = env.CF_VERSION_METADATA;
  return { id: meta?.id ?? "local", tag: meta?.tag ?? "", timestamp: meta?.timestamp ?? "" };
}
