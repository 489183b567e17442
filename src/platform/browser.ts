import { spawn } from "node:child_process";

/**
 * Whether a browser can be opened here. SSH sessions, WSL and Linux without a display get the
 * device code instead (the user opens the page on any device). $BROWSER always wins.
 */
export function canOpenBrowser(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): boolean {
  if (env.BROWSER) return true;
  if (env.SSH_CONNECTION || env.SSH_TTY) return false;
  if (platform === "linux") return !env.WSL_DISTRO_NAME && !env.WSL_INTEROP && !!(env.DISPLAY || env.WAYLAND_DISPLAY);
  return platform === "darwin" || platform === "win32";
}

/** Open a URL with $BROWSER or the platform's opener; resolves false if nothing could be started. */
export function openBrowser(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  const [cmd, args] = env.BROWSER
    ? // $BROWSER may carry arguments (the convention is "$BROWSER url"): let sh split it.
      ["sh", ["-c", `${env.BROWSER} "$1"`, "s3jit-browser", url]]
    : platform === "darwin"
      ? ["open", [url]]
      : platform === "win32"
        ? // Quoted and passed verbatim: cmd would otherwise split the URL at every "&".
          ["cmd", ["/c", "start", '""', `"${url}"`]]
        : ["xdg-open", [url]];
  return new Promise((resolve) => {
    const child = spawn(cmd as string, args as string[], { stdio: "ignore", detached: true, env, windowsVerbatimArguments: platform === "win32" && !env.BROWSER });
    child.on("error", () => resolve(false));
    child.on("spawn", () => {
      child.unref();
      resolve(true);
    });
  });
}
