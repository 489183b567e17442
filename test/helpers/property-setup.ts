import fc from "fast-check";
import path from "node:path";
import { beforeEach } from "vitest";
import { propertySeed, replayCommand } from "./seed.js";

// Every fc.assert in the suite runs from the run's one seed (see seed.ts), unless it names its own.
fc.configureGlobal({ seed: propertySeed() });

// A failed test says how to replay it; for a property that is the only way back to its input.
beforeEach(({ task, onTestFailed }) => {
  onTestFailed(() => {
    const file = path.relative(process.cwd(), task.file.filepath);
    console.error(`replay: ${replayCommand(file, task.name)}`);
  });
});
