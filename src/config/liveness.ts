/**
 * The liveness (presentation-attack detection) settings, kept beside the main schema so that file stays
 * readable. Thresholds are the values measured on the project's generated proxies (README "What stops a
 * photo"); a site should measure its own camera and light with `facegate evaluate-pad`.
 */

export const livenessSchema = {
  mode: {
    doc: 'Presentation-attack detection, a check registered in src/face/liveness/stage.ts. "auto": "burst" on a streaming camera (rpicam, v4l2, http), "off" with the folder camera (one still image cannot show liveness). "burst": a short burst of frames must show a live, non-flat face. "infrared": the burst alternates colour and 850 nm IR frames (NoIR camera, pulsed illuminator) and the face must also be seen in IR. "off": no check.',
    format: 'liveness-mode',
    default: 'auto',
    env: 'FACEGATE_LIVENESS_MODE',
    arg: 'liveness-mode',
  },
  burst: {
    frames: { doc: 'Frames in a liveness burst (the press frame included).', format: 'positive-int', default: 5, env: 'FACEGATE_LIVENESS_BURST_FRAMES' },
    durationMs: { doc: 'A liveness burst ends this long after its first frame even with fewer frames (5 frames at 10 fps take ~400 ms).', format: 'positive-int', default: 800, env: 'FACEGATE_LIVENESS_BURST_MS' },
    minFaces: { doc: 'Frames of the burst in which the face must be found (with landmarks) for the checks to judge it; fewer = spoof.', format: 'positive-int', default: 3, env: 'FACEGATE_LIVENESS_MIN_FACES' },
  },
  still: {
    minChange: { doc: 'Near-identical frames: the face region (32x32 grey) must change by at least this many grey levels (mean absolute difference) within the burst. Proxies: still print 0.3-0.4, anything moving > 14.', format: 'positive-number', default: 1.5, env: 'FACEGATE_LIVENESS_STILL_MIN_CHANGE' },
  },
  planar: {
    minResidual: { doc: 'Flatness: landmarks must stray from the best single homography by at least this fraction of the face size (median over the burst), or the eyes/mouth must move (motion.minChange). Proxies: prints and phones <= 0.02, live ORL captures >= 0.035.', format: 'positive-number', default: 0.03, env: 'FACEGATE_LIVENESS_PLANAR_MIN_RESIDUAL' },
  },
  motion: {
    minChange: { doc: 'Eyelid/mouth motion: change of the eye or inner-mouth aspect ratio (plane motion undone) that counts as a live face even when the head keeps still. A blink changes the eye ratio by ~0.15; proxies <= 0.04.', format: 'positive-number', default: 0.08, env: 'FACEGATE_LIVENESS_MOTION_MIN_CHANGE' },
  },
  infrared: {
    minRatio: { doc: 'Infrared mode: mean IR brightness of the face region over that of the whole IR frame must reach this (a screen emits no IR: its face region is dark).', format: 'positive-number', default: 0.6, env: 'FACEGATE_LIVENESS_IR_MIN_RATIO' },
    minTexture: { doc: 'Infrared mode: standard deviation (grey levels) inside the IR face region must reach this (skin lit by an 850 nm illuminator shows eyes, nose and mouth; a dark screen is flat).', format: 'positive-number', default: 8, env: 'FACEGATE_LIVENESS_IR_MIN_TEXTURE' },
  },
};
