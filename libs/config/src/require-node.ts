// Imported first by every entry point, so an old Node stops with one clear line before
// any framework module is evaluated.
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_MAJOR) {
  process.stderr.write(
    `This project needs Node.js ${REQUIRED_MAJOR} or newer (found ${process.versions.node}); see .nvmrc and README.md.\n`,
  );
  process.exit(1);
}
export {};
