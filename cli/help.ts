/**
 * `--help` texts for every subcommand.
 *
 * @module
 */

const JOB_FLAGS = `Input and output:
  -i, --input DIR|FILE     folder of images to process, or one image (alias --path2initial_images)
  -o, --output DIR|-       where outputs go, created if missing (alias --path2resized_images);
                           never --input, nor a path that leads onto its files through symlinks;
                           - writes the one image of --input FILE to standard output
      --pattern GLOB       which files to take (alias --image_extension; "jpg" means "*.jpg");
                           default: every .jpg, .jpeg, .png, .webp, .avif, .heic, .heif and
                           .gif file, any letter case (formats recognised by content)
  -r, --recursive          walk sub-folders and mirror them under --output
      --name TEMPLATE      output file names, e.g. "{name}_thumb.{ext}": {name} the input's name
                           without extension, {ext} the output's, {w}x{h} the last resize's size
      --skip-existing      skip images whose output already exists (resume a run)
      --dry-run            list what would be written, skipped and refused; write nothing

Pipeline (applied in the order given):
      --op STEP            repeatable; STEP is one of
                             resize=WxH[:fit][:position][:no-enlarge][:bg=COLOUR][:KERNEL]
                                  fit: fill (exact size, default), contain (pad), cover (crop),
                                       inside (keep aspect, fit within)
                                  position: where cover crops and contain pads: centre (default),
                                       top, bottom, left, right, top-left, top-right, bottom-left,
                                       bottom-right
                                  no-enlarge: only ever shrink (a smaller image stays as it is)
                                  bg=COLOUR: contain's bars, e.g. white, transparent, #rrggbb[aa]
                                       (default black; JPEG flattens see-through bars on white)
                                  KERNEL: this step's filter (see --kernel)
                             to_gray | gray     luma (BT.601, as OpenCV)
                             threshold=T        luma > T → white, else black (T in 0..255)
                             flip=h|v|hv        mirror left-right, upside down, or both
      --size W H           a first resize=WxH step (also --size WxH)
                           with neither --size nor --op: resize=512x512 (the old tool's job)
      --background COLOUR  contain's bars for every resize step without its own bg=
      --no-enlarge         every resize step only shrinks (as :no-enlarge)
      --kernel K           resampling filter of every resize step without its own: nearest,
                           linear (triangle, default), cubic (Keys a=-0.5, Pillow's BICUBIC),
                           mitchell (B=C=1/3) or lanczos3 (sharp's default); support grows
                           with the downscale factor, as in Pillow
      --format FMT         same (each input's format, default; HEIC is written as JPEG, GIF
                           as PNG), jpeg, png, webp or avif
      --quality Q          JPEG, WebP and AVIF quality 1..100 (default 75)
      --keep-icc           keep each input's pixels and ICC profile (written into the output)
                           instead of converting them to sRGB (the default); a CMYK JPEG's
                           profile is still converted through (outputs are RGB)
      --keep-metadata      copy each input's EXIF (orientation set to 1 where zpix turned the
                           pixels), XMP and ICC profile into the output (JPEG, PNG, WebP, AVIF);
                           a profile converted to sRGB is dropped (default: all stripped)
      --encoder ENC        fast (built-in WASM SIMD baseline encoder, default) or mozjpeg
                           (smaller files, about 20x slower)
      --max-pixels N       refuse images above N pixels before decoding, and outputs above N
                           pixels before making them (default 100000000)

Reporting:
      --report FILE        write a report: FILE.json (data) or FILE.html (page); repeatable;
                           written to a temporary name, then renamed (never left half-written)
  -q, --quiet              no progress output (the closing line, with failures, still printed)
  -v, --verbose            a line per image
      --log-format FMT     text (default) or json (one JSON object per line on stderr)
  -h, --help               this help`;

const PARALLEL_FLAGS = `Workers:
  -w, --workers N          local worker processes (alias --nb_workers; default: CPU cores)
      --task-timeout S     seconds one image may take before its worker is replaced (default 60)
      --max-attempts N     attempts per image when workers crash or hang (default 3)
      --prefetch N         tasks each worker holds beyond the one it works on, 0..3 (default:
                           parallel 1, so a worker never waits for the next; serve 0, one at
                           a time, the old tool's rule, though a worker asks for the next
                           while it writes an output or, remote, as it starts on an image);
                           a held task waits behind its worker's current image, so with a few
                           very slow images among many, 0 can end the run sooner
      --batch N            most tasks a worker is granted in one message and holds, 1..64
                           (default 16): local workers ask for that many and answer several
                           at once, a few messages a batch instead of two a task; grants
                           shrink to one task as the queue empties, so the load still
                           balances. Like --prefetch, held tasks wait behind a slow image.
                           1: one task at a time, as before (--prefetch applies; a --prefetch
                           without --batch means --batch 1). Remote
                           workers ask for what their own --batch says
      --max-tasks-per-worker N
                           recycle each worker after N images (default 0: never)`;

const EXIT_CODES = `Exit codes: 0 every image done; 1 some images failed (the others are done);
2 usage error (nothing written); 3 the run could not go on; 130/143 interrupted.`;

/** Help texts by subcommand. */
export const HELP: Record<string, string> = {
  main: `zpix — process folders of images in parallel (ZeroMQ workers, WebAssembly kernels)

Usage:
  zpix sequential --input DIR --output DIR [options]   one process
  zpix parallel   --input DIR --output DIR [options]   local worker processes
  zpix serve      --bind tcp://HOST:PORT --input DIR --output DIR [options]
                                                       also accept workers from other machines
  zpix worker     --connect tcp://HOST:PORT            a worker for a serve'd run
  zpix keygen     DIR                                  CURVE keys for encrypted serve runs
  zpix demo                                            a run over generated sample images

Run "zpix COMMAND --help" for each command's options.

Examples:
  zpix parallel --input photos --output small --size 512 512
  zpix sequential -i photos -o bw --op resize=256x256:cover --op gray --op threshold=128
  zpix parallel -i photos -o out --op flip=h --format png --report run.html

${EXIT_CODES}`,
  sequential: `zpix sequential (alias sequential-processing) — process every image in this process

Usage: zpix sequential --input DIR --output DIR [options]

${JOB_FLAGS}

Examples:
  zpix sequential --input photos --output resized --size 512 512
  zpix sequential --path2initial_images photos --path2resized_images out --image_extension jpg
  zpix sequential -i photos -o thumbs --op resize=200x200:cover --quality 85 --report run.json

${EXIT_CODES}`,
  parallel: `zpix parallel (alias parallel-processing) — process images with local worker processes

A ZeroMQ ROUTER hands one image at a time to each worker; a worker asks for
the next when it answers, so faster workers get more. Workers run sandboxed:
read access to --input, write access to --output, nothing else.

Usage: zpix parallel --input DIR --output DIR [--workers N] [options]

${PARALLEL_FLAGS}

${JOB_FLAGS}

Examples:
  zpix parallel --input photos --output resized --size 512 512 --workers 4
  zpix parallel-processing --path2initial_images photos --path2resized_images out --nb_workers 8
  zpix parallel -i photos -o out --op resize=1024x1024:inside --format png --report run.html

${EXIT_CODES}`,
  serve: `zpix serve — a parallel run that also accepts workers from other machines

Remote workers receive image bytes and send back encoded bytes; the server
reads and writes every file. It binds 127.0.0.1 unless told otherwise.

Usage: zpix serve --bind tcp://HOST:PORT --input DIR --output DIR [--workers N] [--token SECRET]

      --bind ENDPOINT      task endpoint (default tcp://127.0.0.1:5555); broadcasts use PORT+1
      --token SECRET       workers must present this secret (or set ZPIX_TOKEN)
      --curve-secret FILE  encrypt all traffic with CURVE, using the server.key of "zpix keygen";
                           workers then need --curve-server-key (use it with --token on any
                           network you do not trust)
      --payload-window SIZE
                           most image bytes held in memory for remote workers at once: inputs
                           sent and not answered, outputs not yet written (default 64MiB; K, M,
                           G, binary; an image larger than the window goes out alone). A plain
                           number N: at most N images instead, as before sizes were accepted
      --shared-fs          send paths, not bytes, to remote workers whose --shared-fs folders
                           hold --input and --output and that prove they see the same files
                           (a probe: a token file in --output, one input's hash); others get bytes

${
    PARALLEL_FLAGS.replace(
      "default: CPU cores)",
      "default: CPU cores);\n                           0 starts none: the run waits for remote workers",
    )
  }

${JOB_FLAGS}

Examples:
  zpix serve --bind tcp://0.0.0.0:5555 --token s3cret -i photos -o out --workers 2
  (then on other machines: zpix worker --connect tcp://SERVER:5555 --token s3cret)
  zpix keygen keys && zpix serve --bind tcp://0.0.0.0:5555 --curve-secret keys/server.key \\
    --token s3cret -i photos -o out
  (then: zpix worker --connect tcp://SERVER:5555 --curve-server-key keys/server.pub --token s3cret)

${EXIT_CODES}`,
  worker: `zpix worker — a worker that connects to a zpix server

Usage: zpix worker --connect tcp://HOST:PORT [--token SECRET] [--curve-server-key KEY|FILE]
                   [--processes K] [--persist] [--shared-fs DIR]...

A worker waits for its server as long as it takes. SIGINT/SIGTERM: it finishes
the image in hand (small ones: perhaps the next few it holds too), sends it
back, leaves and exits 0 (a second signal: at once).
A server that keeps refusing the security handshake for 3 s (a wrong
--curve-server-key, or CURVE on one side only) is named as such, and the
worker exits 2, even with --persist: trying again cannot help.

      --connect ENDPOINT   the server's task endpoint (broadcasts: PORT+1)
      --token SECRET       the server's secret (or set ZPIX_TOKEN)
      --processes K        run K worker processes on this machine (default 1)
      --curve-server-key KEY|FILE
                           the server's CURVE public key (server.pub of "zpix keygen", or the
                           40-character key itself): required when the server uses --curve-secret
      --persist            after a run ends, wait for the next server instead of exiting
      --server-timeout S   exit when the server is silent this long (default 5)
      --batch N            ask for N tasks at once and answer several in one message, 1..64
                           (default 8; 1: one at a time; the server grants at most its
                           --batch, and no more than its --payload-window lets out). A hung
                           image holds the tasks granted behind it until --task-timeout
      --exit-with-parent   leave (as on SIGTERM) once the process that started this worker is
                           gone (--processes sets it for its children, so none outlives it)
      --shared-fs DIR      repeatable: a folder of a file system the server shares at the same
                           path; from a "serve --shared-fs" server this worker then takes paths
                           and reads and writes the files itself, only inside these folders
                           (it needs --allow-read and --allow-write on them: bin/zpix adds them)
  -h, --help               this help

Examples:
  zpix worker --connect tcp://192.0.2.10:5555 --token s3cret --processes 4
  zpix worker --connect tcp://192.0.2.10:5555 --token s3cret --shared-fs /mnt/photos

Exit codes: 0 the run ended; 2 refused by the server (wrong token, other version,
refused CURVE handshake); 4 the server fell silent.`,
  keygen: `zpix keygen — make a CURVE key pair for "zpix serve --curve-secret"

Usage: zpix keygen DIR

Writes DIR/server.key (the key pair: secret, mode 0600, stays on the server) and
DIR/server.pub (the public key: copy it to the workers). Never overwrites a key.

Example:
  zpix keygen keys
  zpix serve --bind tcp://0.0.0.0:5555 --curve-secret keys/server.key --token s3cret -i in -o out
  zpix worker --connect tcp://SERVER:5555 --curve-server-key keys/server.pub --token s3cret`,
  demo: `zpix demo — generate sample images and run the main job on them

Usage: zpix demo [--output DIR]

Writes sample images to DIR/input (default .zpix-demo), resizes them to 512x512
with parallel workers into DIR/output and writes DIR/report.html and DIR/report.json.
Other options are passed to the run (see "zpix parallel --help").

      --output DIR         where the samples, outputs and reports go (default .zpix-demo)
  -h, --help               this help

Examples:
  zpix demo
  zpix demo --output /tmp/zpix-demo --workers 2 --op gray`,
};
