import convict from 'convict';
import { hostname } from 'node:os';
// The custom formats (bcm-pin, strict-boolean, timer-ms, ...) register with convict when this loads.
import './formats.js';
import { EXIT_CODES } from '../core/errors.js';
import { DETECTOR_KEYS, detectorChoicesDoc } from '../face/detect/registry.js';
import { folderGalleryDir } from '../gallery/folder-store.js';
import { GALLERY_STORE_KEYS, GALLERY_STORES } from '../gallery/stores.js';
import { livenessSchema } from './liveness.js';
import { defaultDeviceId } from './device-id.js';
import { choice } from './formats.js';
import { mqttSchema } from './schema-mqtt.js';
import { fleetSchema } from './fleet.js';

/** Exit code for a configuration error (sysexits EX_CONFIG); systemd does not restart-loop on it. */
export const EXIT_CONFIG = EXIT_CODES.config;
export { MAX_TIMER_MS } from './formats.js';


export const schema = {
  deviceId: {
    doc: 'Id of this door in MQTT topics, the MQTT client id and Home Assistant unique ids. Defaults to the hostname plus 6 hex digits derived from /etc/machine-id, so two Pis both called "raspberrypi" do not collide.',
    format: 'topic-segment',
    default: defaultDeviceId(),
    env: 'FACEGATE_DEVICE_ID',
    arg: 'device-id',
  },
  deviceName: {
    doc: 'Friendly name of this door (the Home Assistant device name). Defaults to the hostname.',
    format: String,
    default: hostname(),
    env: 'FACEGATE_DEVICE_NAME',
  },
  paths: {
    data: {
      doc: 'Folder for enrolled people (gallery/), the folder camera (camera/) and collected images.',
      format: String,
      default: 'data',
      env: 'FACEGATE_DATA_DIR',
      arg: 'data-dir',
    },
    state: {
      doc: 'Folder for state the daemon writes: embedding cache, MQTT outbox, audit log, replay cache, lockout, status. Empty = <paths.data>/state.',
      format: String,
      default: '',
      env: 'FACEGATE_STATE_DIR',
      arg: 'state-dir',
    },
  },
  log: {
    level: {
      doc: 'Log level.',
      ...choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
      env: 'FACEGATE_LOG_LEVEL',
      arg: 'log-level',
    },
    pretty: {
      doc: 'Human-readable logs. "auto" = pretty only when stdout is a terminal; journald always gets JSON lines.',
      ...choice(['auto', 'always', 'never'], 'auto'),
      env: 'FACEGATE_LOG_PRETTY',
    },
  },
  model: {
    dir: {
      doc: 'Folder of the Siamese model (model.json, weights, facegate metadata).',
      format: String,
      default: 'models/default',
      env: 'FACEGATE_MODEL_DIR',
      arg: 'model',
    },
    backend: {
      doc: 'TensorFlow.js backend. "auto" uses tfjs-node when installed, else wasm, else cpu.',
      ...choice(['auto', 'tensorflow', 'wasm', 'cpu'], 'auto'),
      env: 'FACEGATE_BACKEND',
      arg: 'backend',
    },
    detectionThreshold: {
      doc: 'A verification image counts as a match when its pair score is above this. null = the value calibrated into the model, raised with the number of people enrolled when the model has an open-set curve (every shipped model does), so that the door\'s FAR does not grow with the household; a number switches that scaling off.',
      format: 'fraction',
      default: null as number | null,
      env: 'FACEGATE_DETECTION_THRESHOLD',
      arg: 'detection-threshold',
    },
    verificationThreshold: {
      doc: 'A person is verified when the fraction of their images that match is above this. null = the model\'s value.',
      format: 'fraction',
      default: null as number | null,
      env: 'FACEGATE_VERIFICATION_THRESHOLD',
      arg: 'verification-threshold',
    },
  },
  vision: {
    detector: {
      doc: `How the face is found: ${detectorChoicesDoc()}.`,
      ...choice([...DETECTOR_KEYS], 'tiny'),
      env: 'FACEGATE_DETECTOR',
      arg: 'detector',
    },
    inputSize: {
      doc: 'Tiny detector input size in pixels (multiple of 32). Smaller is faster and finds fewer small faces.',
      format: [128, 160, 224, 320, 416, 512, 608],
      default: 320 as 128 | 160 | 224 | 320 | 416 | 512 | 608,
      env: 'FACEGATE_DETECTOR_INPUT_SIZE',
    },
    minConfidence: {
      doc: 'Minimum detector confidence for a face.',
      format: 'fraction',
      default: 0.5,
      env: 'FACEGATE_DETECTOR_MIN_CONFIDENCE',
    },
    padding: {
      doc: 'Pixels of border added around the image before detection; helps with tightly cropped photos.',
      format: 'nat',
      default: 0,
      env: 'FACEGATE_DETECTOR_PADDING',
    },
    fixedCrop: {
      x: { doc: 'Fixed crop left edge (detector "fixed").', format: 'nat', default: 200, env: 'FACEGATE_FIXED_CROP_X' },
      y: { doc: 'Fixed crop top edge (detector "fixed").', format: 'nat', default: 120, env: 'FACEGATE_FIXED_CROP_Y' },
      size: { doc: 'Fixed crop width and height (detector "fixed").', format: 'positive-int', default: 250, env: 'FACEGATE_FIXED_CROP_SIZE' },
    },
  },
  image: {
    maxPixels: {
      doc: 'Images (camera frames, gallery photos) with more pixels than this are refused from their header, before decoding: a 31 KB PNG can declare 16000x16000.',
      format: 'positive-int',
      default: 25_000_000,
      env: 'FACEGATE_IMAGE_MAX_PIXELS',
    },
  },
  liveness: livenessSchema,
  gallery: {
    store: {
      doc: `Where enrolled people come from: ${GALLERY_STORE_KEYS.map((k) => `"${k}" (${GALLERY_STORES[k].doc})`).join(', ')}.`,
      ...choice([...GALLERY_STORE_KEYS], 'folder'),
      env: 'FACEGATE_GALLERY_STORE',
    },
    dir: {
      doc: 'Enrolled people: one folder per person holding their verification images. Empty = <paths.data>/gallery.',
      format: String,
      default: '',
      env: 'FACEGATE_GALLERY_DIR',
      arg: 'gallery',
    },
  },
  camera: {
    driver: {
      doc: 'Camera: "files" (newest image in a folder), "rpicam" (Raspberry Pi camera via rpicam-vid), "v4l2" (USB webcam via ffmpeg), "http" (IP camera).',
      ...choice(['files', 'rpicam', 'v4l2', 'http'], 'files'),
      env: 'FACEGATE_CAMERA',
      arg: 'camera',
    },
    width: { doc: 'Capture width in pixels.', format: 'positive-int', default: 1280, env: 'FACEGATE_CAMERA_WIDTH' },
    height: { doc: 'Capture height in pixels.', format: 'positive-int', default: 720, env: 'FACEGATE_CAMERA_HEIGHT' },
    framerate: { doc: 'Frames per second requested from streaming cameras.', format: 'positive-int', default: 10, env: 'FACEGATE_CAMERA_FRAMERATE' },
    maxAgeMs: {
      doc: 'grab() fails when the newest frame is older than this (ms). The folder camera ignores it.',
      format: 'timer-ms',
      default: 1000,
      env: 'FACEGATE_CAMERA_MAX_AGE_MS',
    },
    command: {
      doc: 'Path of the capture program. null = auto: rpicam-vid, then libcamera-vid (rpicam); ffmpeg (v4l2).',
      format: 'optional-string',
      default: null as string | null,
      env: 'FACEGATE_CAMERA_COMMAND',
      arg: 'camera-command',
    },
    extraArgs: {
      doc: 'Extra arguments appended to the capture program, e.g. ["--rotation","180"].',
      format: Array,
      default: [] as string[],
      env: 'FACEGATE_CAMERA_EXTRA_ARGS',
    },
    restartMinMs: { doc: 'First delay before restarting a capture program that died (doubles up to restartMaxMs).', format: 'timer-ms', default: 500, env: 'FACEGATE_CAMERA_RESTART_MIN_MS' },
    restartMaxMs: { doc: 'Longest delay between capture program restarts.', format: 'timer-ms', default: 30000, env: 'FACEGATE_CAMERA_RESTART_MAX_MS' },
    folder: {
      doc: 'Folder the "files" camera watches; the newest image is what it sees. Empty = <paths.data>/camera.',
      format: String,
      default: '',
      env: 'FACEGATE_CAMERA_FOLDER',
    },
    device: { doc: 'V4L2 device for "v4l2".', format: String, default: '/dev/video0', env: 'FACEGATE_CAMERA_DEVICE' },
    url: {
      doc: 'IP camera URL for "http": a snapshot URL (one JPEG per request) or an MJPEG stream URL.',
      format: 'optional-string',
      default: null as string | null,
      env: 'FACEGATE_CAMERA_URL',
    },
    httpMode: { doc: '"snapshot" polls the URL per grab; "mjpeg" keeps a stream open.', ...choice(['snapshot', 'mjpeg'], 'snapshot'), env: 'FACEGATE_CAMERA_HTTP_MODE' },
    username: { doc: 'IP camera user name (basic or digest auth).', format: 'optional-string', default: null as string | null, env: 'FACEGATE_CAMERA_USERNAME' },
    password: { doc: 'IP camera password.', format: 'optional-string', default: null as string | null, env: 'FACEGATE_CAMERA_PASSWORD', sensitive: true },
    timeoutMs: { doc: 'IP camera request timeout.', format: 'timer-ms', default: 3000, env: 'FACEGATE_CAMERA_TIMEOUT_MS' },
  },
  gpio: {
    driver: {
      doc: '"simulated" (logged; key v / SIGUSR1 / MQTT press the button) or "onoff" (real pins through sysfs).',
      ...choice(['simulated', 'onoff'], 'simulated'),
      env: 'FACEGATE_GPIO',
      arg: 'gpio',
    },
    sysfsRoot: { doc: 'Where the kernel\'s GPIO sysfs lives; only tests change it.', format: String, default: '/sys/class/gpio', env: 'FACEGATE_GPIO_SYSFS' },
    button: {
      pin: { doc: 'BCM number of the push button.', format: 'bcm-pin', default: 17 as number | null, env: 'FACEGATE_BUTTON_PIN' },
      activeLow: { doc: 'Button pulls the pin to ground when pressed (wired to GND with a pull-up).', format: 'strict-boolean', default: true, env: 'FACEGATE_BUTTON_ACTIVE_LOW' },
      debounceMs: { doc: 'Button debounce time.', format: 'timer-ms-or-zero', default: 50, env: 'FACEGATE_BUTTON_DEBOUNCE_MS' },
    },
    relay: {
      pin: { doc: 'BCM number of the door relay.', format: 'bcm-pin', default: 27 as number | null, env: 'FACEGATE_RELAY_PIN' },
      activeLow: { doc: 'Relay board energises on a low pin (most opto-isolated boards do).', format: 'strict-boolean', default: true, env: 'FACEGATE_RELAY_ACTIVE_LOW' },
    },
    leds: {
      green: { doc: 'BCM number of the green (granted) LED, or null.', format: 'bcm-pin', default: 22 as number | null, env: 'FACEGATE_LED_GREEN_PIN' },
      red: { doc: 'BCM number of the red (denied/error) LED, or null.', format: 'bcm-pin', default: 23 as number | null, env: 'FACEGATE_LED_RED_PIN' },
      busy: { doc: 'BCM number of the busy (verifying) LED, or null.', format: 'bcm-pin', default: 24 as number | null, env: 'FACEGATE_LED_BUSY_PIN' },
    },
  },
  door: {
    unlockMs: { doc: 'How long the relay stays energised after a granted attempt.', format: 'timer-ms', default: 3000, env: 'FACEGATE_UNLOCK_MS' },
    maxUnlockMs: { doc: 'Hard cap on any relay pulse, whatever asked for it.', format: 'timer-ms', default: 10000, env: 'FACEGATE_MAX_UNLOCK_MS' },
    cooldownMs: { doc: 'Pause after an attempt before the next press is taken.', format: 'timer-ms-or-zero', default: 2000, env: 'FACEGATE_COOLDOWN_MS' },
    resultMs: { doc: 'How long the green/red LED shows a result.', format: 'timer-ms', default: 3000, env: 'FACEGATE_RESULT_MS' },
    captureTimeoutMs: { doc: 'An attempt ends as "error" when the camera gives no frame within this.', format: 'timer-ms', default: 3000, env: 'FACEGATE_CAPTURE_TIMEOUT_MS' },
    verifyTimeoutMs: { doc: 'An attempt ends as "error" when verification takes longer than this.', format: 'timer-ms', default: 10000, env: 'FACEGATE_VERIFY_TIMEOUT_MS' },
  },
  security: {
    maxFailures: { doc: 'Denied attempts within windowMs that trigger a lockout. 0 disables lockout.', format: 'nat', default: 5, env: 'FACEGATE_MAX_FAILURES' },
    windowMs: { doc: 'Window in which denied attempts are counted.', format: 'timer-ms', default: 60000, env: 'FACEGATE_FAILURE_WINDOW_MS' },
    lockoutMs: { doc: 'How long triggers are ignored after too many denials.', format: 'timer-ms', default: 300000, env: 'FACEGATE_LOCKOUT_MS' },
  },
  mqtt: mqttSchema,
  audit: {
    enabled: { doc: 'Append every attempt to <paths.state>/audit/attempts-YYYY-MM-DD.jsonl.', format: 'strict-boolean', default: true, env: 'FACEGATE_AUDIT_ENABLED' },
    snapshots: { doc: 'Keep a JPEG of the probe face beside each audit line.', format: 'strict-boolean', default: false, env: 'FACEGATE_AUDIT_SNAPSHOTS' },
    retentionDays: { doc: 'Delete audit files older than this many days.', format: 'positive-int', default: 90, env: 'FACEGATE_AUDIT_RETENTION_DAYS' },
    maxBytes: { doc: 'Delete the oldest audit files when the audit folder exceeds this size.', format: 'positive-int', default: 200 * 1024 * 1024, env: 'FACEGATE_AUDIT_MAX_BYTES' },
    required: {
      doc: 'true: when an attempt cannot be recorded (disk full, read-only), the door denies instead of opening. false: it keeps serving residents and reports "audit failing".',
      format: 'strict-boolean',
      default: false,
      env: 'FACEGATE_AUDIT_REQUIRED',
    },
  },
  systemd: {
    notify: {
      doc: 'Tell systemd READY and WATCHDOG via systemd-notify. "auto" = when NOTIFY_SOCKET is set.',
      ...choice(['auto', 'always', 'never'], 'auto'),
      env: 'FACEGATE_SYSTEMD_NOTIFY',
    },
  },
  keyboard: {
    enabled: {
      doc: 'In a foreground terminal, key "v" presses the simulated button and "q" quits.',
      format: 'strict-boolean',
      default: true,
      env: 'FACEGATE_KEYBOARD',
    },
  },
  fleet: fleetSchema,
  preview: {
    port: { doc: 'Port of the MJPEG live preview served by "facegate collect" (0 = off).', format: 'port', default: 8081, env: 'FACEGATE_PREVIEW_PORT', arg: 'preview-port' },
    host: {
      doc: 'Address the live preview listens on. 127.0.0.1 = this machine only (reach it over `ssh -L 8081:localhost:8081`); 0.0.0.0 = every network the machine is on, without a password.',
      format: String,
      default: '127.0.0.1',
      env: 'FACEGATE_PREVIEW_HOST',
      arg: 'preview-host',
    },
  },
};

export type Config = convict.Config<ReturnType<typeof schemaProperties>>;
// Helps TypeScript infer the shape without repeating it by hand.
function schemaProperties() {
  return convict(schema).getProperties();
}
export type Settings = ReturnType<typeof schemaProperties>;

/** Paths that default to a place under paths.data. */
export function galleryDir(s: Settings): string {
  return folderGalleryDir(s);
}
export function cameraFolder(s: Settings): string {
  return s.camera.folder || `${s.paths.data}/camera`;
}
