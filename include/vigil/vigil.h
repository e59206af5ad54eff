/* vigil.h - the public API of libvigil.
 *
 * Status: every function that can fail returns an int result code (VG_OK = 0) and fills
 * the caller's vg_error with one readable line. Codes are only ever appended.
 */
#ifndef VIGIL_H
#define VIGIL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes. */
#define VG_OK              0  /* success */
#define VG_ERR_NOMEM       1  /* an allocation failed */
#define VG_ERR_IO          2  /* a file could not be opened, read or written */
#define VG_ERR_FORMAT      3  /* a file is truncated, corrupt or not of the expected kind */
#define VG_ERR_MISSING     4  /* a required tensor or field is absent */
#define VG_ERR_SHAPE       5  /* a tensor or input has the wrong shape */
#define VG_ERR_ARG         6  /* an argument is out of range or inconsistent */
#define VG_ERR_BACKEND     7  /* the compute backend (oneDNN) refused or failed */
#define VG_ERR_UNSUPPORTED 8  /* a valid request this build cannot serve */
#define VG_ERR_ABORTED     9  /* a callback asked to stop */
#define VG_END            10  /* not an error: a source has no more frames */

/* The detail of a failure: the code and one line naming the thing and the problem. */
typedef struct vg_error {
    int code;
    char msg[512];
} vg_error;

/* Fixed English text of a result code (never NULL). */
const char *vg_errstr(int code);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *vg_version(void);

/* ---- models ---------------------------------------------------------------------------
 * A model is the predictive autoencoder of SYSTEM.md: a frozen encoder (resnet18 or
 * mobilenet_v2) over T past frames, a 1x1 merge and a transposed-conv decoder that
 * predicts the next frame. Or, with encoder "unet", a compact U-Net over the T frames
 * stacked along channels, trained from scratch: no weights file at all (no variants; its
 * "features" for caching are the frames themselves). Frames are float32 RGB, NCHW per
 * frame, in the model's normalised space (vg_model_describe: mean, std; [-1, 1] for the
 * unet). A model and everything made from it belong to one thread at a time. */

typedef struct vg_model vg_model;

typedef struct vg_model_params {
    const char *encoder;         /* "resnet18" (default), "mobilenet_v2" or "unet" */
    const char *variant;         /* "base" (default), "dropout", "skiptwice", "attention" */
    int frames;                  /* T past frames, default 4 */
    int step;                    /* frame step: frame n is predicted from frames n - step,
                                    n - 2 step, ..., n - T step; default 1. A step > 1 lets
                                    an object move further between the frames the model
                                    sees, so unusual speed costs more prediction error;
                                    every frame is still scored */
    int width, height;           /* multiples of 32, default 224x224 */
    const char *encoder_weights; /* safetensors or torchvision .pth; NULL: random encoder
                                    (benchmarks and tests only) */
    unsigned long long seed;     /* initialisation of the trainable part, default 0 */
    int threads;                 /* compute threads, 0: all cores */
} vg_model_params;

vg_model_params vg_model_default_params(void);

/* A new, untrained model. *out is NULL on failure. */
int vg_model_create(const vg_model_params *p, vg_model **out, vg_error *err);

/* A model from a file written by vg_model_save. threads as in vg_model_params. */
int vg_model_load(const char *path, int threads, vg_model **out, vg_error *err);

/* Writes weights and metadata as safetensors (atomically: PATH.tmp, then rename). */
int vg_model_save(const vg_model *m, const char *path, vg_error *err);

void vg_model_free(vg_model *m); /* accepts NULL */

/* Metadata sections a model file carries beside its architecture: "training" (how it was
 * trained), "validation" (its normal score distribution), "calibration". json is a JSON
 * object; NULL removes the section. */
int vg_model_set_meta(vg_model *m, const char *section, const char *json, vg_error *err);

/* A section as JSON text (free with free()), or NULL when absent. */
char *vg_model_get_meta(const vg_model *m, const char *section);

/* The number at keys[0] .. keys[depth-1] inside a section, e.g. {"psnr", "percentiles",
 * "0.5"} in "validation": 1 and *out, or 0 when absent or not a number. */
int vg_model_meta_number(const vg_model *m, const char *section, const char *const *keys,
                         int depth, double *out);

/* Inference (predictions, streams, encodings) planned from now on computes in bfloat16
 * with float32 accumulation: about 2x faster on CPUs with AVX512_BF16; predictions within
 * 1% (relative L2) of float32 on the test fixtures. Default off; not stored in the model
 * file. VG_ERR_UNSUPPORTED on other CPUs. */
int vg_model_set_bf16(vg_model *m, int on, vg_error *err);

/* What a model was built with; strings are static. */
typedef struct vg_model_info {
    const char *encoder, *variant;
    int frames, step, width, height;
    int context;                 /* frames a stream takes before its first prediction:
                                    frames * step */
    float mean[3], std[3];       /* normalisation: x = (pixel/255 - mean) / std */
    long long trainable_params, frozen_params;
} vg_model_info;

vg_model_info vg_model_describe(const vg_model *m);

/* Predicts frame T of each of batch sequences from frames 0..T-1.
 *   frames (batch, T, 3, H, W)  ->  pred (batch, 3, H, W) */
int vg_model_predict(vg_model *m, const float *frames, int batch, float *pred, vg_error *err);

/* Floating-point operations (multiply-add = 2) per streamed frame (encoder + head) and per
 * training sequence from cached features (head forward and backward, loss excluded). */
void vg_model_flops(const vg_model *m, double *stream_frame, double *train_sequence);

/* A frame as the model takes it: rgb (height * width * 3 bytes, the model's size) to
 * normalised float (3, H, W). */
void vg_model_frame_from_rgb(const vg_model *m, const unsigned char *rgb, float *chw);

/* A normalised frame (3, H, W), e.g. a prediction, to pixel values in [0, 1] (clamped). */
void vg_model_frame_to_unit(const vg_model *m, const float *chw, float *unit);

/* ---- streaming inference --------------------------------------------------------------
 * Each pushed frame is encoded once; its features join a ring of the last T * step, from
 * which the next frame is predicted (vg_model_params.step). */

typedef struct vg_stream vg_stream;

int vg_stream_create(vg_model *m, vg_stream **out, vg_error *err);
void vg_stream_free(vg_stream *s); /* accepts NULL */

/* Pushes frame (3, H, W). Once the model's context (vg_model_info) is in, writes the
 * prediction of the next frame into pred_next (3, H, W; may be NULL) and sets *ready to
 * 1; else *ready = 0. */
int vg_stream_push(vg_stream *s, const float *frame, float *pred_next, int *ready,
                   vg_error *err);

/* Starts over (a new clip): the next frames are context again. Keeps the plans, so it
 * costs nothing, unlike a new stream. */
void vg_stream_reset(vg_stream *s);

/* Several streams of one model served together, one per lane (a camera): the frames of
 * the lanes pushed in one call are encoded and predicted in batches, which uses the cores
 * better than one frame at a time. vg_stream_create makes a stream of 1 lane. */
int vg_stream_create_lanes(vg_model *m, int lanes, vg_stream **out, vg_error *err);

/* Pushes n frames (n, 3, H, W), frame i to lane lane[i] (distinct lanes). For each lane
 * with its context in, pred_next[i] (n, 3, H, W; may be NULL) gets the prediction of its next
 * frame and ready[i] = 1; else ready[i] = 0. */
int vg_stream_push_lanes(vg_stream *s, int n, const int *lane, const float *frames,
                         float *pred_next, int *ready, vg_error *err);

/* Starts one lane over (its camera reconnected, say). */
void vg_stream_reset_lane(vg_stream *s, int lane);

/* What a frame looks like to the model, as a vector for nearest-neighbour comparisons
 * (e.g. an allowlist of rare-but-normal pictures): the encoder's stride-32 feature maps
 * averaged over the picture (the U-Net, which has no frozen encoder: the frame averaged
 * over an 8 x 8 grid, 192 values). vg_model_embedding_size floats. */
int vg_model_embedding_size(const vg_model *m);

/* The embedding of the frame last pushed to lane. VG_ERR_ARG when the lane has none. */
int vg_stream_embedding(vg_stream *s, int lane, float *out, vg_error *err);

/* ---- training ---------------------------------------------------------------------------
 * Loss 0.6 MSE + 0.25 gradient-L1 + 0.15 (1 - SSIM, 11x11 Gaussian window, sigma 1.5) in
 * pixel space; Adam. Bit-reproducible for a given seed and thread count. */

typedef struct vg_trainer vg_trainer;

typedef struct vg_train_params {
    int batch;                   /* sequences per step, default 32 */
    double lr;                   /* Adam learning rate, default 3e-4 */
    double beta1, beta2, eps;    /* default 0.9, 0.999, 1e-8 */
    unsigned long long seed;     /* dropout masks, default 0 */
    int bf16;                    /* compute in bfloat16 with float32 accumulation, weights
                                    and optimiser (CPUs with AVX512_BF16); default 0 */
} vg_train_params;

vg_train_params vg_train_default_params(void);

int vg_trainer_create(vg_model *m, const vg_train_params *p, vg_trainer **out,
                      vg_error *err);
void vg_trainer_free(vg_trainer *t); /* accepts NULL */

/* One step on batch sequences of T+1 frames (batch, T+1, 3, H, W): the first T are the
 * input, the last the target. The encoder runs on the T input frames of each sequence. */
int vg_trainer_step(vg_trainer *t, const float *frames, float *loss, vg_error *err);

/* Encoder features of n frames (n, 3, H, W) for a cache: f32 (n, C32, H/32, W/32), and for
 * the skiptwice variant f16 and f8 (NULL otherwise). vg_model_feature_sizes gives the
 * floats per frame of each (0 when unused). */
void vg_model_feature_sizes(const vg_model *m, long long sizes[3] /* f32, f16, f8 */);
int vg_model_encode(vg_model *m, const float *frames, int n, float *f32, float *f16,
                    float *f8, vg_error *err);

/* One step from cached features: feats[k][b*T + t] is the feature block (of size
 * sizes[k]) of frame t of sequence b, k = 0 (f32), 1 (f16), 2 (f8); target (batch, 3, H, W). */
int vg_trainer_step_features(vg_trainer *t, const float *const feats[3], const float *target,
                             float *loss, vg_error *err);

/* Adam steps taken so far. */
long long vg_trainer_steps(const vg_trainer *t);

/* ---- video sources ----------------------------------------------------------------------
 * Frames, as RGB24 at a requested size, from a video file (anything FFmpeg's libraries
 * read), a folder of images (jpg, png, tif, bmp; natural sort: 2.png before 10.png), a
 * live URL (rtsp, http(s), udp, ...) or a V4L2 device (/dev/videoN). Grayscale becomes
 * RGB. A source belongs to one thread at a time. */

typedef struct vg_source vg_source;

typedef enum vg_fit {
    VG_FIT_STRETCH, /* scale each axis to the output size (default, as the thesis did) */
    VG_FIT_CROP,    /* scale to cover the output, cut the centre: aspect kept, edges lost */
    VG_FIT_PAD      /* scale to fit inside the output, black bars: aspect kept, all seen */
} vg_fit;

/* "stretch", "crop", "pad"; "?" for a value out of range. */
const char *vg_fit_name(vg_fit f);

typedef struct vg_source_params {
    int width, height;              /* output size; 0, 0: the source's (after the ROI) */
    int roi_x, roi_y, roi_w, roi_h; /* crop applied before resizing; roi_w = 0: none */
    vg_fit fit;
    int realtime;                   /* files and folders: deliver at the stream's frame
                                       rate (by timestamps; folders: folder_fps) */
    int timeout_ms;                 /* network sources: open and read timeout, 10000
                                       (0: none) */
    double folder_fps;              /* image folders: frame rate for timestamps, 25 */
    int (*abort)(void *user);       /* network sources: polled while waiting (opening,
                                       reading); nonzero gives up at once with
                                       VG_ERR_ABORTED, e.g. a service stopping. NULL: none */
    void *abort_user;
} vg_source_params;

vg_source_params vg_source_default_params(void);

/* How model m saw its footage: its size, and the ROI and fit of its training ("training"
 * metadata), so that every reader feeds it frames the same way. */
vg_source_params vg_model_source_params(const vg_model *m);

typedef struct vg_frame {
    long long index;          /* 0, 1, ... over delivered frames */
    double pts;               /* presentation time in seconds */
    int width, height;
    const unsigned char *rgb; /* height * width * 3 bytes, valid until the next read */
} vg_frame;

/* Opens uri (a path, folder, URL or device). *out is NULL on failure. */
int vg_source_open(const char *uri, const vg_source_params *p, vg_source **out,
                   vg_error *err);

/* The next frame (VG_OK), or VG_END after the last. A frame that fails to decode in the
 * middle of a stream is counted and skipped, not fatal. */
int vg_source_read(vg_source *s, vg_frame *f, vg_error *err);

double vg_source_fps(const vg_source *s);       /* as stated by the source, 0: unknown */
/* Frames skipped: undecodable or damaged frames and images, and the frames missing from
 * the end of a file cut short (judged by the duration its header states). */
long long vg_source_errors(const vg_source *s);
void vg_source_close(vg_source *s);             /* accepts NULL */

/* The clips a path names, in natural order: itself when it is a video file, URL, device
 * or a folder of images; else each subfolder of images and each video file inside it.
 * *clips is an array of *n strings, freed with vg_clips_free. */
int vg_clips_list(const char *path, char ***clips, int *n, vg_error *err);
void vg_clips_free(char **clips, int n);

/* ---- scores -----------------------------------------------------------------------------
 * How far a prediction is from the frame that came. Images are float (3, H, W) with pixel
 * values in [0, 1]. */

typedef struct vg_score {
    double mse;   /* mean squared error over pixels and channels */
    double psnr;  /* 10 log10(1 / mse) dB, at most 100 (a perfect prediction) */
    double patch; /* largest mean error of a patch x patch window (stride patch / 2), so a
                     small object is not averaged away over the frame; windows stay inside
                     the frame (the last one flush with its edge), and a frame smaller than
                     a patch is one window */
} vg_score;

#define VG_PATCH_DEFAULT 16 /* pixels */

/* Scores pred against frame; error_map (H, W; may be NULL) gets each pixel's squared
 * error averaged over the channels. VG_ERR_ARG for a size or patch below 1 or a NaN or
 * infinite input; allocates (H+1)(W+1) doubles (VG_ERR_NOMEM). */
int vg_score_frame(const float *pred, const float *frame, int width, int height, int patch,
                   vg_score *out, float *error_map, vg_error *err);

/* Causal moving average: out[i] = mean of in[max(0, i-width+1) .. i]. in == out allowed.
 * Non-finite values are left out of the means (NaN where a window has none); width <= 1
 * copies. */
void vg_smooth(const double *in, double *out, int n, int width);

/* A model's scores over a stream of frames: each pushed frame (RGB24 at the model's size)
 * is scored against the model's prediction of it from the T frames before (step apart). */
typedef struct vg_scorer vg_scorer;

int vg_scorer_create(vg_model *m, int patch, vg_scorer **out, vg_error *err);
void vg_scorer_free(vg_scorer *s); /* accepts NULL */

/* Pushes a frame. Once the model's context is in, *scored = 1 and out (and error_map
 * (H, W), and pred_rgb (H * W * 3 bytes): the prediction; both may be NULL) describe this
 * frame. */
int vg_scorer_push(vg_scorer *s, const unsigned char *rgb, vg_score *out, float *error_map,
                   unsigned char *pred_rgb, int *scored, vg_error *err);

/* Starts over (a new clip): the next frames are context again. */
void vg_scorer_reset(vg_scorer *s);

/* A scorer of lanes, one per camera, whose frames are predicted in batches (as
 * vg_stream_create_lanes). vg_scorer_create makes one of 1 lane. */
int vg_scorer_create_lanes(vg_model *m, int patch, int lanes, vg_scorer **out,
                           vg_error *err);

/* Pushes n frames, rgb[i] to lane lane[i] (distinct lanes), as vg_scorer_push does for
 * each: out[i], error_map[i] and pred_rgb[i] describe frame i when scored[i] = 1
 * (error_map and pred_rgb may be NULL, or hold NULL entries). */
int vg_scorer_push_lanes(vg_scorer *s, int n, const int *lane,
                         const unsigned char *const *rgb, vg_score *out,
                         float *const *error_map, unsigned char *const *pred_rgb,
                         int *scored, vg_error *err);

/* Starts one lane over. */
void vg_scorer_reset_lane(vg_scorer *s, int lane);

/* The embedding (vg_stream_embedding) of the frame last pushed to lane. */
int vg_scorer_embedding(vg_scorer *s, int lane, float *out, vg_error *err);

/* ---- footage and training on it ----------------------------------------------------------
 * Clips decoded once into memory at a model's size, then training as the thesis did
 * (Table 3.1): each epoch samples sequences of T+1 consecutive frames at random from all
 * windows that do not cross a clip boundary. */

typedef struct vg_progress {
    const char *stage;     /* "decode", "encode", "train", "validate" */
    long long done, total; /* units of the stage: frames or sequences */
    int epoch, epochs;     /* train: 1-based epoch */
    double loss;           /* train: mean loss of the epoch so far */
} vg_progress;

/* Called as work advances; a nonzero return stops the operation, which then returns
 * VG_ERR_ABORTED after saving what it can (training: a resumable checkpoint). */
typedef int (*vg_progress_fn)(const vg_progress *p, void *user);

typedef struct vg_footage vg_footage;

/* Decodes every clip of paths (as vg_clips_list lists them) with sp (size, ROI, fit). */
int vg_footage_load(const char *const *paths, int n, const vg_source_params *sp,
                    vg_progress_fn progress, void *user, vg_footage **out, vg_error *err);
void vg_footage_free(vg_footage *f); /* accepts NULL */
int vg_footage_clips(const vg_footage *f);
long long vg_footage_frames(const vg_footage *f);

typedef enum vg_aug { VG_AUG_NONE, VG_AUG_GENERAL, VG_AUG_LIGHTING } vg_aug;

typedef struct vg_schedule {
    vg_train_params train;  /* batch 32, lr 3e-4, Adam, seed, bf16 */
    int epochs;             /* 10 */
    int seqs_per_epoch;     /* 4000 */
    vg_aug aug;             /* none (default); general: +-5 deg rotation, +-2 px shift,
                               +-10% brightness and saturation; lighting: +-15% brightness */
    int aug_chunk;          /* consecutive frames sharing one random transform, 32 */
    const char *checkpoint; /* model path saved after each epoch and on a stop, with its
                               optimiser state beside it in CHECKPOINT.state; NULL: none */
    int resume;             /* continue from checkpoint and its state */
    vg_progress_fn progress;
    void *user;
} vg_schedule;

vg_schedule vg_schedule_default(void);

/* Trains m on normal footage. Encoder features are computed once per frame (with
 * augmentation: once per frame and epoch) and cached. */
int vg_train_footage(vg_model *m, const vg_footage *train, const vg_schedule *p, vg_error *err);

/* The normal score distribution of footage (PSNR and patch score: mean, std, min, max,
 * percentiles 0.1 .. 99.9), stored in the model's metadata as "validation". */
int vg_validate(vg_model *m, const vg_footage *val, int patch, vg_progress_fn progress,
                void *user, vg_error *err);

/* ---- calibration: the operating point a model ships with ---------------------------------
 * vigil calibrate stores it in the model's "calibration" metadata section as
 *   {"score": "patch"|"psnr", "patch": 16, "smooth": 5, "threshold": X (in the score's own
 *    units: the patch score, or PSNR dB with lower = anomalous), "band": [lo, hi], "fpr": F,
 *    ...}
 * and everything that decides (score --events, eval, watch) reads it through this. */

typedef enum vg_score_kind { VG_SCORE_PATCH, VG_SCORE_PSNR } vg_score_kind;

const char *vg_score_kind_name(vg_score_kind k); /* "patch", "psnr" */

/* The anomaly value of a frame's scores: higher = more anomalous (the patch score, or
 * -PSNR), so that one threshold direction serves every score. */
double vg_anomaly_value(vg_score_kind k, const vg_score *s);

typedef struct vg_calibration {
    vg_score_kind score;     /* the score the threshold applies to */
    int patch;               /* its patch window, pixels */
    int smooth;              /* moving-average width (frames) applied before the threshold */
    double threshold;        /* on the smoothed anomaly value (PSNR: -dB) */
    double band_lo, band_hi; /* the threshold's uncertainty, same units (lo <= threshold <=
                                hi): the normal quantiles it could have been */
    double fpr;              /* measured on the held-out normal frames */
} vg_calibration;

/* The model's calibration: VG_OK, VG_ERR_MISSING when it has none, VG_ERR_FORMAT when the
 * section is malformed. */
int vg_model_calibration(const vg_model *m, vg_calibration *out, vg_error *err);

/* The normal distribution the threshold was chosen from, for drift control: the section's
 * "reference", the percentiles 0, 1, ..., 100 of the smoothed normal values in the score's
 * own units (PSNR dB), into ref as increasing anomaly values (PSNR's negated and reversed,
 * so ref[100] is minus the lowest normal PSNR). VG_ERR_MISSING when the model has no
 * calibration or one from before the reference was stored (calibrate again),
 * VG_ERR_FORMAT when it is malformed; ref is untouched on failure. */
int vg_model_calibration_reference(const vg_model *m, double ref[101], vg_error *err);

/* How the threshold is chosen from the normal scores (thesis §3.4, seed 000). */
typedef enum vg_threshold_strategy {
    VG_THRESHOLD_PERCENTILE, /* "percentile": the lowest threshold whose normal FPR <= fpr */
    VG_THRESHOLD_MEANSTD,    /* "meanstd": mean + k sigma of the anomaly value (PSNR:
                                mean - k sigma dB, the thesis's) */
    VG_THRESHOLD_WORST       /* "worst": the worst normal value with a margin (PSNR: worst
                                - margin dB; the patch score, an MSE: x 10^(margin/10)) */
} vg_threshold_strategy;

const char *vg_threshold_strategy_name(vg_threshold_strategy s);

typedef struct vg_calibrate_params {
    vg_score_kind score;            /* patch */
    int patch;                      /* VG_PATCH_DEFAULT */
    int smooth;                     /* moving-average width, frames: 5 */
    vg_threshold_strategy strategy; /* percentile */
    double fpr;                     /* 0.005: the percentile strategy's normal FPR */
    double recall;                  /* 0.9: a synthetic category below it at its operational
                                       severity "needs a better model" */
    double k_sigma;                 /* meanstd: 3 */
    double margin_db;               /* worst: 1 dB */
    int burst;                      /* synthetic anomalies: frames per injected burst, 10
                                       (freezes take their own length) */
    double fps;                     /* the footage's frame rate, 25 (bitrates and the signal
                                       checks' timing depend on it) */
    int synthetic;                  /* 1 (default): measure recall on synthetic anomalies */
    const char *report;             /* a folder for report.html and its pictures, or NULL */
    vg_progress_fn progress;        /* stages "calibrate" (normal frames), "synthetic"
                                       (bursts) */
    void *user;
} vg_calibrate_params;

vg_calibrate_params vg_calibrate_default_params(void);

/* Calibrates m on normal footage held out from its training (SYSTEM.md "Thresholds and
 * calibration"): the normal distribution of the smoothed anomaly value gives a threshold
 * by p->strategy (the others are reported beside it); with p->synthetic, each case of
 * vg_synth_sweep is injected as bursts into the normal clips and scored, giving recall per
 * case and category at the threshold, for the model alone and with the signal checks. The
 * operating point goes into m's "calibration" metadata section (save the model to keep
 * it); the whole record, calibration.json, comes back in *json (free()). */
int vg_calibrate(vg_model *m, const vg_footage *normal, const vg_calibrate_params *p,
                 char **json, vg_error *err);

/* ---- evaluation -------------------------------------------------------------------------
 * Ground truth and ROC analysis (SYSTEM.md "Evaluation protocol"). */

typedef struct vg_labels vg_labels;

/* Ground truth per frame, in either of two forms told apart by content:
 *   JSON (the first non-blank character is '{'): {"clips": {"NAME": [0, 1, ...], ...}},
 *     one label per frame, 1 = anomalous, as ../shared/data/ped2/labels/ped2_frame_labels.json;
 *   intervals: one anomalous span per line, "CLIP START END": frames START..END of clip
 *     CLIP, 0-based and inclusive (spans may overlap); blank lines and '#' comments are
 *     ignored. Every frame not listed is normal, so a clip not listed is all normal; the
 *     clip's length comes from the footage (vg_labels_get).
 * A clip's NAME is its folder or file name without extension. Errors name the file and,
 * for intervals, the line (VG_ERR_FORMAT). */
int vg_labels_load(const char *path, vg_labels **out, vg_error *err);
void vg_labels_free(vg_labels *l); /* accepts NULL */

/* JSON files: the labels of the clip called name as listed, *n of them; NULL when the file
 * has no such clip, and always for intervals files (which need the frame count: use
 * vg_labels_get). */
const unsigned char *vg_labels_clip(const vg_labels *l, const char *name, int *n);

/* The labels of clip name for its n frames (the footage's count) into label[n]. JSON:
 * VG_ERR_MISSING when the file has no such clip, VG_ERR_SHAPE when it lists another number
 * of frames; intervals: VG_ERR_SHAPE for a span past frame n - 1 (naming its line). */
int vg_labels_get(const vg_labels *l, const char *name, int n, unsigned char *label,
                  vg_error *err);

/* Area under the ROC curve of score (higher = more anomalous) against label (nonzero =
 * anomalous), ties counted half. Needs both classes. */
int vg_roc_auc(const double *score, const unsigned char *label, long long n, double *auc,
               vg_error *err);

/* A ROC curve. Point i flags every item whose score is >= threshold[i]; the points run from
 * (0, 0) (threshold +inf: nothing flagged) to (1, 1), one per distinct score (or bin). The
 * arrays belong to the curve: vg_roc_free. */
typedef struct vg_roc {
    long long n;                    /* points */
    double *fpr, *tpr, *threshold;  /* n each, fpr and tpr not decreasing */
    double auc;                     /* area under the points (trapezoids: ties count half) */
    double auc_bound;               /* |auc - exact AUC| <= auc_bound: 0 when exact, the
                                       binning's worst case for vg_roc_hist curves */
    double eer;                     /* equal error rate: the FPR where FPR = 1 - TPR,
                                       interpolated linearly between points */
    long long pos, neg;             /* anomalous and normal items */
} vg_roc;

/* The ROC curve of score (higher = more anomalous; finite) against label (nonzero =
 * anomalous). VG_ERR_ARG without both classes. */
int vg_roc_curve(const double *score, const unsigned char *label, long long n, vg_roc *out,
                 vg_error *err);
void vg_roc_free(vg_roc *r); /* frees the arrays and zeroes *r; accepts NULL */

/* The frames of several clips, one after another: clip[i] identifies the clip of frame i,
 * and a clip's frames are consecutive (a change of clip[i] starts the next clip). */

/* Case-level ROC (thesis 4.1): inside each clip, each maximal run of equal labels is one
 * case, anomalous or normal, scored by the largest score of its frames, so a case counts
 * as detected when any of its frames is flagged. pos and neg count cases. */
int vg_roc_cases(const double *score, const unsigned char *label, const int *clip,
                 long long n, vg_roc *out, vg_error *err);

/* Macro AUC: the mean of the per-clip AUCs over the clips that have both normal and
 * anomalous frames, *used of them (others are skipped: their AUC is undefined); VG_ERR_ARG
 * when no clip has both. */
int vg_roc_macro_auc(const double *score, const unsigned char *label, const int *clip,
                     long long n, double *auc, int *used, vg_error *err);

/* Each clip's scores mapped to [0, 1] by the clip's own min and max (as FFP, MNAD and
 * MemAE evaluate). It uses test statistics, the clip's future included: report it apart
 * and labelled, for comparison with papers only. A constant clip maps to 0, non-finite
 * scores stay as they are; in == out allowed. */
void vg_minmax_per_clip(const double *in, const int *clip, long long n, double *out);

/* What a detector flagging every frame with score >= threshold does on labelled footage (a
 * NaN score is not flagged). */
typedef struct vg_alarm_stats {
    long long anomalous, normal;       /* frames */
    long long hits, false_hits;        /* flagged anomalous and flagged normal frames */
    double tpr, fpr;                   /* hits / anomalous, false_hits / normal (NaN: 0/0) */
    long long cases, cases_detected;   /* anomalous runs (as vg_roc_cases) and those with a
                                          flagged frame */
    long long false_alarms;            /* alarms raised on normal frames: flagged normal
                                          frames whose previous frame in the clip is not
                                          flagged. False alarms per hour of normal footage
                                          = false_alarms / (normal / fps / 3600). */
} vg_alarm_stats;

int vg_alarm_stats_at(const double *score, const unsigned char *label, const int *clip,
                      long long n, double threshold, vg_alarm_stats *out, vg_error *err);

/* A ROC for very many items, e.g. every pixel of every frame: counts per class over bins
 * log-spaced from lo to hi (values below lo count in the first bin, above hi in the last),
 * so memory stays 2 x bins counters. Items of one bin count as tied; the curve's auc_bound
 * is the exact worst case of that (half the share of anomalous-normal pairs that share a
 * bin). 4096 bins over [1e-9, 1] (0.5% wide) suit squared pixel errors. */
typedef struct vg_roc_hist vg_roc_hist;

int vg_roc_hist_create(double lo, double hi, int bins, vg_roc_hist **out, vg_error *err);
void vg_roc_hist_free(vg_roc_hist *h); /* accepts NULL */

#define VG_LABEL_NONE 255 /* a label that counts in neither class (e.g. outside the ROI) */

/* Adds n values (an error map) with their labels: 0 normal, VG_LABEL_NONE skipped, any
 * other anomalous. VG_ERR_ARG for a NaN value not skipped (nothing is added then). */
int vg_roc_hist_add(vg_roc_hist *h, const float *value, const unsigned char *label,
                    long long n, vg_error *err);

/* The curve: one point per bin edge. VG_ERR_ARG without both classes. */
int vg_roc_hist_curve(const vg_roc_hist *h, vg_roc *out, vg_error *err);

/* Pixel-level ground truth: one mask image per frame (a pixel is anomalous when it is not
 * black), as ../shared/data/ped2/testing/masks/NN/kkk.png, mapped onto the model's input
 * the way a vg_source maps frames: through the ROI and fit of vg_source_params, by nearest
 * neighbour. */
typedef struct vg_masks vg_masks;

/* The masks of one clip: the PNG images of folder dir, in natural order, mask k for frame
 * k. Masks are the size of the source frames, frame_w x frame_h; they are mapped onto
 * p's output size (p->width x p->height; 0, 0: the ROI's or the frame's, as a source).
 * VG_ERR_IO for a missing folder, VG_ERR_FORMAT when it has no image, VG_ERR_ARG for a ROI
 * outside the frame. */
int vg_masks_open(const char *dir, int frame_w, int frame_h, const vg_source_params *p,
                  vg_masks **out, vg_error *err);
int vg_masks_count(const vg_masks *m);
void vg_masks_free(vg_masks *m); /* accepts NULL */

/* Mask k into out (output height x width): 1 anomalous, 0 normal, VG_LABEL_NONE where the
 * output shows no frame pixel (fit pad's bars). VG_ERR_SHAPE for a mask of another size
 * than the frames, VG_ERR_FORMAT for an unreadable PNG; the message names the file. */
int vg_masks_read(vg_masks *m, int k, unsigned char *out, vg_error *err);

/* ---- synthetic anomalies ----------------------------------------------------------------
 * The technical anomalies of broadcast QC, made from normal frames with FFmpeg's libraries
 * in a severity sweep per category, so that recall can be measured before real anomalies
 * exist (SYSTEM.md "Thresholds and calibration"). A case is injected into a span of a clip
 * held in memory as RGB24; the frames outside the span are never touched. No case draws
 * random numbers: the same clip and case give the same bytes. Thread-safe. */

typedef enum vg_synth_category {
    VG_SYNTH_COMPRESSION, /* "compression": the span re-encoded with H.264 at a low bitrate */
    VG_SYNTH_RESOLUTION,  /* "resolution": scaled down and back up */
    VG_SYNTH_COLOUR,      /* "colour": gamma, white balance, channel swaps */
    VG_SYNTH_FREEZE,      /* "freeze": frozen frames, frames shown twice */
    VG_SYNTH_FORMAT,      /* "format": letterbox, pillarbox, black frames, colour bars */
    VG_SYNTH_CATEGORIES   /* how many there are */
} vg_synth_category;

/* The name in quotes above; "?" for a value out of range. */
const char *vg_synth_category_name(vg_synth_category c);

typedef struct vg_synth_case {
    vg_synth_category category;
    const char *name; /* unique in the sweep, e.g. "h264 1 Mbps", "freeze 5" */
    int severity;     /* rank within the category, 0 = mildest */
    int operational;  /* 1: a severity at which the recall target applies (>= 90% of the
                         frames caught at <= 0.5% FPR) */
    int frames;       /* freezes: their length, the only span they take; 0: any span */
} vg_synth_case;

/* The standard sweep, *n cases (static), by category and mildest first:
 *   compression  "h264 8 Mbps", "h264 4 Mbps", "h264 2 Mbps", "h264 1 Mbps"*: classes of a
 *                12 Mbps 1920x1080 25 fps source, scaled to the clip at equal bits per pixel
 *                (1 Mbps class = 0.0193 bit/pixel: 24 kbit/s at 224x224, 25 fps, at
 *                least 1 kbit/s). The span is coded as the middle of a stream (50 frames
 *                before it are encoded first, and left as they were; a clip with fewer
 *                runs back and forth over what it has), so a short span (5-15 frames) is
 *                a burst in an otherwise clean stream. Small frames suffer more at equal
 *                bits per pixel: on Ped2 at 224x224 the four classes leave 41-44,
 *                37-41, 33-37 and 30-34 dB of PSNR; below about 128x96 the lowest
 *                classes starve the picture to grey.
 *   resolution   "scale x1/2", "scale x1/4"*, "scale x1/8" (bilinear down and back up)
 *   colour       "white balance 5%", "white balance 10%", "gamma 1.2", "gamma 0.8",
 *                "white balance 20%", "gamma 1.5"*, "swap BGR"*, "swap GRB"* (gamma g:
 *                v' = 255 (v/255)^g; white balance p: red x(1+p), blue x(1-p))
 *   freeze       "freeze 1", "stutter x2" (the span at half rate: every other frame is the
 *                one before it), "freeze 2", "freeze 5"*, "freeze 10"*, "freeze 25"*
 *                (the frame before the span repeated)
 *   format       "letterbox", "pillarbox" (the picture squeezed to 3/4 of the height or
 *                width between black bars), "colour bars" (7 bars at 75%), "black frames"*
 * (* operational). */
const vg_synth_case *vg_synth_sweep(int *n);

/* A clip in memory. */
typedef struct vg_synth_clip {
    unsigned char *rgb; /* n frames of height * width * 3 bytes, one after another */
    int n, width, height;
    double fps;         /* nominal frame rate; compression scales its bitrate by it */
} vg_synth_clip;

/* Injects case c (one of vg_synth_sweep's, matched by name) into frames start ..
 * start+len-1 of clip, in place. truth (n flags; may be NULL) gets 1 for each frame the
 * case changed (some value by more than 2 of 255) and 0 elsewhere: a case that leaves a
 * frame as it was (a channel swap of grey footage, a freeze of a still scene) marks it 0,
 * so an all-zero truth means "not applicable to this footage", not a miss. Any size works
 * (H.264 needs even sizes: odd ones are encoded with the last row or column repeated).
 * On failure the clip and truth are unchanged. VG_ERR_ARG for a span outside the clip, a
 * freeze without a frame before it or of another length than its own, a bad size or fps;
 * VG_ERR_UNSUPPORTED when this FFmpeg has no encoder (see vg_synth_encoder) or cannot
 * open it; VG_ERR_BACKEND when FFmpeg fails during a round trip. */
int vg_synth_apply(const vg_synth_case *c, vg_synth_clip *clip, int start, int len,
                   unsigned char *truth, vg_error *err);

/* The encoder the compression cases use: "libx264", else this FFmpeg's first software
 * H.264 encoder, else "mpeg4" (MPEG-4 part 2: other artefacts; say so in a calibration);
 * NULL when there is none. */
const char *vg_synth_encoder(void);

/* ---- decisions and events ---------------------------------------------------------------
 * Per-frame scores become events (SYSTEM.md "Decisions, events, alerts"). One decider
 * serves one (stream, event class); each value pushed passes, in this order:
 *   smoothing     a causal moving average over `smooth` values (as vg_smooth);
 *   hysteresis    an event is entered at `threshold` and held while values stay at or
 *                 above `exit` (<= threshold);
 *   debounce      it opens only after `debounce` consecutive smoothed values >= threshold,
 *                 and starts at the first of them;
 *   min duration  it is reported (NEW) once it spans `min_duration` values from its start
 *                 to its latest value >= exit; a shorter excursion is never reported;
 *   merge gap     a dip of up to `merge_gap` values below exit is bridged and the event
 *                 goes on. This holds before NEW too, so a flickering excursion counts as
 *                 one for the minimum duration. END is decided on the (merge_gap + 1)-th
 *                 consecutive value below exit; the event ends at its last value >= exit;
 *   severity      from the peak's margin over the threshold (vg_margin);
 *   confidence    from the peak against the threshold's uncertainty band.
 * Lifecycle: NEW, then UPDATE every `update_every` values while open, then END. A push
 * gives at most one event: NEW comes on a value >= exit and END on one below it, exit <=
 * threshold holds, and END replaces an UPDATE due on the same value. Durations count
 * pushed values ("frames"). Scores are higher = more anomalous: pass the patch score,
 * minus PSNR (vg_anomaly_value), or a check's score (vg_checks). A non-finite score is left
 * out of the smoothing, as vg_smooth does; a smoothed value with no finite score in its
 * window counts as below exit. A decider belongs to one thread at a time. */

typedef enum vg_event_class {
    VG_EVENT_PREDICTION_ERROR, /* "prediction_error": the model's score */
    VG_EVENT_FROZEN_FRAME,     /* "frozen_frame": the picture repeats (near-)exactly */
    VG_EVENT_BLACK_FRAME,      /* "black_frame": the picture is black */
    VG_EVENT_FLAT_FRAME,       /* "flat_frame": one uniform level that is not black (a card,
                                  a blank screen, a covered lens on a lit scene) */
    VG_EVENT_SIGNAL_LOST,      /* "signal_lost": frames stopped coming */
    VG_EVENT_DETAIL_LOSS,      /* "detail_loss": the picture lost its fine detail (heavy
                                  compression, a lower resolution scaled up, blur) */
    VG_EVENT_CLASSES           /* how many there are */
} vg_event_class;

/* The name in quotes above; "?" for a value out of range. */
const char *vg_event_class_name(vg_event_class c);

typedef enum vg_event_type { VG_EVENT_NEW, VG_EVENT_UPDATE, VG_EVENT_END } vg_event_type;
typedef enum vg_severity { VG_SEVERITY_LOW, VG_SEVERITY_MEDIUM, VG_SEVERITY_HIGH } vg_severity;

/* How sure an event is, judged from its peak against the threshold's uncertainty band:
 * HIGH above band_hi (the peak clears every threshold the calibration could have chosen),
 * LOW inside the band, NONE when there is no band. */
typedef enum vg_confidence {
    VG_CONFIDENCE_NONE,
    VG_CONFIDENCE_LOW,
    VG_CONFIDENCE_HIGH
} vg_confidence;

/* How the severity levels `medium` and `high` are measured. RATIO (the default): the peak
 * against multiples of the threshold, for scores that are positive and scale with the
 * scene (patch score, MSE, the checks' scores): "twice the limit" means the same on every
 * camera, whatever its calibrated level. ABSOLUTE: the peak against threshold + margin in
 * score units, for scores that can be negative or are logarithmic, such as -PSNR: a ratio
 * r of MSE is 10 log10(r) dB, so margins 1.76 and 3.01 dB on -PSNR are the ratio tiers
 * 1.5x and 2x of MSE. */
typedef enum vg_margin { VG_MARGIN_RATIO, VG_MARGIN_ABSOLUTE } vg_margin;

typedef struct vg_decide_params {
    vg_event_class event_class;
    double threshold;        /* enter level. prediction_error: NAN, the caller sets it (e.g.
                                vg_model_calibration); the checks: 1 (at their limit) */
    double exit;             /* exit level <= threshold; NAN (default): the threshold */
    int smooth;              /* moving-average width >= 1; 1 (none) */
    int debounce;            /* >= 1; prediction_error 3, frozen 3, black and flat 2,
                                signal lost 1 */
    int min_duration;        /* >= 1; prediction_error 5, frozen 3, black and flat 2,
                                signal lost 1 */
    int merge_gap;           /* >= 0; prediction_error 10, frozen, black and flat 2, signal
                                lost 0 */
    int update_every;        /* UPDATE every this many values while open; 0 (default): never */
    vg_margin margin;        /* RATIO (default) */
    double medium, high;     /* severity: LOW, MEDIUM from medium, HIGH from high. RATIO:
                                peak >= medium * threshold (1.5), high * threshold (2), with
                                1 <= medium <= high and threshold > 0; ABSOLUTE: peak >=
                                threshold + medium, threshold + high, 0 <= medium <= high */
    double band_lo, band_hi; /* the threshold's uncertainty, band_lo <= threshold <= band_hi
                                (e.g. vg_calibration's); NAN, NAN (default): none */
    long long first_id;      /* the first event's id, then +1 each; 1 + class * 1e9 by
                                default, so the deciders of one stream never share an id */
} vg_decide_params;

/* The defaults of a class (above). */
vg_decide_params vg_decide_default_params(vg_event_class c);

typedef struct vg_event {
    long long id;
    vg_event_class event_class;
    vg_event_type type;
    long long start_frame, end_frame; /* the first value of the debounce run; the latest
                                         value >= exit (so far, before END) */
    double start_time, end_time;      /* their timestamps, seconds */
    double duration;                  /* end_time - start_time: 0 for a one-frame event */
    long long peak_frame;
    double peak_time;
    double peak, current;             /* the largest smoothed value; the latest one (NaN
                                         when its window held no finite score) */
    double threshold;
    vg_severity severity;             /* from the peak so far: an UPDATE may raise it */
    double band_lo, band_hi;          /* NAN: no band */
    vg_confidence confidence;
} vg_event;

typedef struct vg_decider vg_decider;

/* A decider for p (checked: one line naming the bad field). *out is NULL on failure. */
int vg_decider_create(const vg_decide_params *p, vg_decider **out, vg_error *err);
void vg_decider_free(vg_decider *d); /* accepts NULL */

/* Pushes the score of frame (numbers must increase; timestamps t in seconds are only
 * reported). *emitted is 1 when ev was filled with an event, else 0. VG_ERR_ARG for a frame
 * number that does not increase. */
int vg_decider_push(vg_decider *d, long long frame, double t, double score, vg_event *ev,
                    int *emitted, vg_error *err);

/* The stream ended: an open event ends (END into ev, *emitted = 1); an excursion not yet
 * min_duration long is dropped. The decider starts over (smoothing, frame order), for a
 * next stream; ids go on. */
void vg_decider_flush(vg_decider *d, vg_event *ev, int *emitted);

/* Moves the enter and exit levels (exit NAN: the threshold) from the next push on, e.g. to
 * an adaptive threshold; checked as at create (VG_ERR_ARG, the decider unchanged). The
 * severity tiers stay relative to the threshold, and the confidence band moves with it:
 * scaled by new / old for RATIO margins, shifted by new - old for ABSOLUTE ones. */
int vg_decider_set_threshold(vg_decider *d, double threshold, double exit, vg_error *err);

/* The event as one line of JSON (snake_case; the payload of vigil's event sinks):
 *   {"id", "camera", "class", "type": "new"|"update"|"end", "start_frame", "end_frame",
 *    "start_time", "end_time", "duration", "peak", "peak_frame", "peak_time", "current",
 *    "threshold", "severity": "low"|"medium"|"high", "band": [lo, hi] | null,
 *    "confidence": "low"|"high"|null, "snapshot", "clip"}
 * camera, snapshot (a heat-map picture) and clip (a video excerpt) may be NULL (JSON null);
 * a NaN number is null. Free with free(); NULL when out of memory. */
char *vg_event_json(const vg_event *ev, const char *camera, const char *snapshot,
                    const char *clip);

/* A causal moving average fed one value at a time, O(1) a value: exactly vg_smooth's
 * output over the values pushed so far (non-finite values left out, NaN while the window
 * holds no finite one; width 1 passes values through). */
typedef struct vg_smoother vg_smoother;

int vg_smoother_create(int width, vg_smoother **out, vg_error *err); /* width >= 1 */
double vg_smoother_push(vg_smoother *s, double v); /* the smoothed value at v */
void vg_smoother_reset(vg_smoother *s);            /* forget the values pushed */
void vg_smoother_free(vg_smoother *s);             /* accepts NULL */

/* ---- signal checks ----------------------------------------------------------------------
 * Cheap deterministic checks that run beside the model and catch what a frame predictor
 * cannot: a frozen picture is perfectly predictable. Each gives every frame a score per
 * event class, "how far past its limit": >= 1 is flagged, and deciders made with
 * vg_decide_default_params(class) (threshold 1) turn them into events. Checks work on
 * luma (BT.601: (77 R + 150 G + 29 B + 128) / 256) in 0..255.
 *   frozen_frame  motion, the mean |luma - the previous frame's luma|, at or below the
 *                 frozen level = max(frozen_ratio * the scene's normal motion, frozen_floor).
 *                 Compressed sources never repeat bit-exactly, hence a level and not 0; the
 *                 floor keeps exact repeats caught in a scene that hardly moves.
 *                 score = level / max(motion, level / 100) (100: an exact repeat); 0 for
 *                 a black or flat frame, which is reported as such.
 *   black_frame   mean luma at or below black_level; score = black_level / max(mean,
 *                 black_level / 100).
 *   flat_frame    luma standard deviation at or below flat_level in a frame that is not
 *                 black (a black frame is flat too, and is reported once, as black);
 *                 score = flat_level / max(std, flat_level / 100), 0 for black frames.
 *   signal_lost   a step in presentation timestamps of gap_frames nominal frame intervals
 *                 or more; score = step / (gap_frames * interval), on the first frame
 *                 after the gap. A source that fails or ends unexpectedly: vg_checks_lost.
 *   detail_loss   detail, the mean |horizontal| + |vertical| luma difference of neighbours,
 *                 at or below detail_ratio * the scene's normal detail (a frame predictor
 *                 predicts a blurred or blocky picture well: it is smoother than normal);
 *                 score = level / max(detail, level / 100); 0 for a black or flat frame
 *                 and when the normal detail is unknown. Frames are compared at one size
 *                 (the model's), since detail depends on it.
 * A checker belongs to one thread at a time. */

typedef struct vg_checks_params {
    double motion;       /* the scene's normal motion (vg_checks_fit_motion); 0 (default):
                            unknown, the floor alone sets the frozen level */
    double frozen_ratio; /* >= 0; 0.2 */
    double frozen_floor; /* > 0; 0.1 of 255 */
    double black_level;  /* > 0; 20 of 255: above video black as a source decoded in the
                            wrong range shows it (16), with noise */
    double flat_level;   /* > 0; 3 of 255 (sensor noise on a uniform card is 1-3) */
    double fps;          /* nominal frame rate (vg_source_fps); 0 (default): the interval is
                            the smallest timestamp step seen */
    double gap_frames;   /* > 1; 5 */
    double detail;       /* the scene's normal detail (vg_checks_fit); 0 (default): unknown,
                            no detail_loss check */
    double detail_ratio; /* in (0, 1); 0.8: a fifth of the fine detail gone */
} vg_checks_params;

vg_checks_params vg_checks_default_params(void);

/* What the checks saw in one frame. */
typedef struct vg_checks_frame {
    double motion;                  /* NaN on a first frame (after create, reset or a size
                                       change) */
    double luma_mean, luma_std;
    double detail;                  /* NaN for a frame under 2x2 pixels */
    double gap;                     /* timestamp step in nominal intervals; NaN on a first
                                       frame or a step that is not forward */
    double score[VG_EVENT_CLASSES]; /* by class; 0 where not applicable (prediction_error,
                                       frozen on a first frame, signal lost without a step) */
} vg_checks_frame;

typedef struct vg_checks vg_checks;

int vg_checks_create(const vg_checks_params *p, vg_checks **out, vg_error *err);
void vg_checks_free(vg_checks *c); /* accepts NULL */

/* Checks a frame (rgb: height * width * 3 bytes, any size) shown at pts seconds. */
int vg_checks_push(vg_checks *c, const unsigned char *rgb, int width, int height, double pts,
                   vg_checks_frame *out, vg_error *err);

/* No frame came: a read failed, timed out or the source ended unexpectedly, noticed at
 * time now (on the source's clock). out holds only a signal_lost score, at least 1 and
 * growing with the time since the last frame, so pushing it into the signal_lost decider
 * keeps the event open while the source stays down. */
void vg_checks_lost(vg_checks *c, double now, vg_checks_frame *out);

/* A new clip: the next frame has no previous one (no motion, no timestamp step), and the
 * learned frame interval is forgotten. */
void vg_checks_reset(vg_checks *c);

/* The scene's normal levels into p: motion, the median over the consecutive frame pairs of
 * each clip of normal footage of the mean absolute luma difference; detail, the median of
 * the frames' detail. VG_ERR_ARG when no clip has two frames. */
int vg_checks_fit(const vg_footage *normal, vg_checks_params *p, vg_error *err);

/* ---- operating points: a model's decisions as shipped, and as overridden ------------------ */

/* How a model's prediction_error events are decided, with what an operator overrides. */
typedef struct vg_operating_overrides {
    int has_score;
    vg_score_kind score;    /* with has_score: the score to decide on (default: the
                               calibration's, else patch) */
    double threshold;       /* NAN: the calibration's; else in the score's own units (PSNR
                               dB: anomalous at or below) */
    double exit;            /* NAN: the threshold; same units */
    int patch, smooth;      /* 0: those the threshold was measured with (given ones must
                               match a calibrated threshold) */
    int debounce, min_duration, merge_gap, update_every; /* -1: the class defaults */
} vg_operating_overrides;

vg_operating_overrides vg_operating_default_overrides(void);

typedef enum vg_operating_source {
    VG_FROM_OVERRIDE,    /* "the threshold given" */
    VG_FROM_CALIBRATION, /* "the model's calibration" */
    VG_FROM_VALIDATION   /* "the validation": a model never calibrated; its validation's
                            99.5th percentile of patch scores (0.5th of PSNR) */
} vg_operating_source;

const char *vg_operating_source_name(vg_operating_source s);

typedef struct vg_operating_point {
    vg_score_kind score;        /* the score decided on */
    int patch;                  /* the scorer's patch window */
    vg_decide_params decide;    /* prediction_error's, in anomaly values (PSNR negated; the
                                   severity tiers of a PSNR threshold are MSE's 1.5x and 2x
                                   in dB), ready for vg_decider_create */
    vg_operating_source source; /* where the threshold came from */
} vg_operating_point;

/* The operating point of m's events under overrides o. VG_ERR_ARG (one line) for a model
 * with no threshold to use, a patch or smoothing that contradicts the threshold's, a
 * patch-score threshold <= 0 or an exit level past the threshold. */
int vg_model_operating_point(const vg_model *m, const vg_operating_overrides *o,
                             vg_operating_point *out, vg_error *err);

/* The signal checks' scene levels (motion, detail) from m's "checks" metadata section,
 * where vigil calibrate stores them, into p (left as they are when absent). */
void vg_model_checks_params(const vg_model *m, vg_checks_params *p);

/* ---- pictures ---------------------------------------------------------------------------
 * What people look at: heat maps over frames and score timelines. */

/* Writes a PNG of the frame (rgb, height * width * 3 bytes) with error_map (H, W)
 * overlaid in a perceptual colour map (inferno), 0 transparent .. vmax opaque; vmax <= 0:
 * the map's 99.9th percentile. These writers write PATH.tmp and rename it over path,
 * so a crash never leaves half a file. */
int vg_heatmap_png(const char *path, const unsigned char *rgb, const float *error_map,
                   int width, int height, float vmax, vg_error *err);

/* Writes a PNG of the frame alone (same conventions). */
int vg_png_write(const char *path, const unsigned char *rgb, int width, int height,
                 vg_error *err);

typedef struct vg_timeline {
    const char *title;         /* may be NULL */
    const char *ylabel;        /* e.g. "PSNR dB" */
    const double *t;           /* x: seconds (or NULL: frame index) */
    const double *score;       /* n values */
    const double *smooth;      /* n values or NULL */
    int n;
    int higher_is_normal;      /* PSNR: 1, errors: 0 (only for the band's shading) */
    double band_lo, band_hi;   /* normal band (e.g. validation p0.5..p99.5); lo == hi: none */
    double threshold;          /* drawn when has_threshold */
    int has_threshold;
    const unsigned char *truth; /* n flags (ground truth anomalous) shaded, or NULL */
} vg_timeline;

/* Writes a self-contained SVG plot of a score over time (t must not decrease). Non-finite
 * points are skipped; over 4000 points keep each pixel column's min and max. */
int vg_timeline_svg(const char *path, const vg_timeline *tl, vg_error *err);

/* Charts as self-contained SVG (no scripts, fonts or links), for reports. */
typedef enum vg_chart_kind {
    VG_CHART_LINES,    /* y against x, a line per series */
    VG_CHART_ROC,      /* ROC curves (x = FPR, y = TPR, points in curve order as vg_roc
                          gives them) on [0, 1] with the chance diagonal; the legend gives
                          each curve's area under its points */
    VG_CHART_HISTOGRAM /* each series' values (x; y unused) over bins shared by all series,
                          as the share of the series' values per bin */
} vg_chart_kind;

typedef struct vg_series {
    const char *name;     /* legend entry */
    const double *x, *y;  /* n points; non-finite ones are skipped (a line breaks there) */
    long long n;
} vg_series;

#define VG_CHART_MAX_SERIES 8

typedef struct vg_chart {
    vg_chart_kind kind;
    const char *title;          /* may be NULL */
    const char *xlabel, *ylabel; /* NULL: the kind's ("false positive rate", "share"...) */
    const vg_series *series;
    int n_series;               /* 1 .. VG_CHART_MAX_SERIES */
    int bins;                   /* histogram: bins over the values' range; 0: 40 */
    double marker;              /* a vertical line at x = marker, e.g. the threshold */
    int has_marker;
    const char *marker_label;   /* its label (NULL: "threshold") */
} vg_chart;

/* Writes chart c as an SVG file (atomically, as the writers above). VG_ERR_ARG for a
 * chart without series, a series without points or a non-finite marker. */
int vg_chart_svg(const char *path, const vg_chart *c, vg_error *err);

/* ---- reports ----------------------------------------------------------------------------
 * A self-contained HTML page, readable offline (no scripts, fonts or links: charts are
 * inline SVG, images data: URIs), built in memory part by part and written atomically.
 * Each part returns VG_OK or leaves the page as it was and says why. */

typedef struct vg_html vg_html;

int vg_html_create(const char *title, vg_html **out, vg_error *err);
void vg_html_free(vg_html *h); /* accepts NULL */

int vg_html_section(vg_html *h, const char *heading, vg_error *err); /* a new section */
int vg_html_text(vg_html *h, const char *text, vg_error *err);       /* a paragraph */

/* A table of rows x cols cells (row-major; NULL cells empty), row 0 the header. */
int vg_html_table(vg_html *h, const char *const *cells, int rows, int cols, vg_error *err);

int vg_html_chart(vg_html *h, const vg_chart *c, vg_error *err);
int vg_html_timeline(vg_html *h, const vg_timeline *tl, vg_error *err);

/* Embeds the image file at path (PNG, JPEG or SVG) with a caption (may be NULL). */
int vg_html_image(vg_html *h, const char *path, const char *caption, vg_error *err);

/* Writes the page (PATH.tmp, then renamed over path). */
int vg_html_write(vg_html *h, const char *path, vg_error *err);

/* ---- the service: vigil watch -------------------------------------------------------------
 * Many cameras in real time (SYSTEM.md "Decisions, events, alerts"), configured by a YAML
 * file (examples/watch.yaml): a decode thread per camera (reconnecting with backoff), one
 * inference worker that scores the cameras' frames in batches, the signal checks and the
 * decision module per camera, events committed to a SQLite store and delivered from it to
 * the sinks (JSON Lines, webhook, MQTT), heat-map snapshots, and an HTTP server for
 * /metrics, /healthz and the events API. */

typedef struct vg_watch vg_watch;

typedef struct vg_watch_params {
    /* Notable happenings (a camera lost or found, a sink failing, a reload), one line each,
     * from any thread; NULL: none. */
    void (*log)(void *user, const char *line);
    void *user;
} vg_watch_params;

vg_watch_params vg_watch_default_params(void);

/* Checks config without starting anything: the file is valid, every model loads and has
 * a threshold for its cameras, file sources exist. *summary (may be NULL; free()) gets a
 * few lines describing what would run. Errors say "FILE:LINE: ..." or name the camera. */
int vg_watch_check(const char *config, char **summary, vg_error *err);

/* Starts watching what config describes; returns once everything runs. */
int vg_watch_start(const char *config, const vg_watch_params *p, vg_watch **out,
                   vg_error *err);

/* Reads the config file again and restarts with it (open events end first). When the new
 * file is invalid, the old configuration keeps running and the error comes back. */
int vg_watch_reload(vg_watch *w, vg_error *err);

typedef struct vg_watch_stats {
    int cameras, up;                  /* configured, and delivering now */
    long long frames_in, scored, dropped, events, owed; /* since the last (re)start;
                                         scored: frames through the model (a camera's
                                         first T after a (re)connect are context, not
                                         scored: /metrics counts only scored ones); owed:
                                         deliveries the sinks still owe, all told */
    double latency_p50, latency_p95, latency_p99, latency_max; /* frame arrival to
                                         decision, seconds (1 ms bins) */
    int http_port;                    /* 0: no HTTP server */
    double seconds;                   /* since the cameras started */
} vg_watch_stats;

void vg_watch_get_stats(vg_watch *w, vg_watch_stats *out);

/* Stops gracefully: cameras and worker stop, open events end (END is stored and sent), the
 * sinks get up to 5 s to deliver what they owe (the rest stays owed in the store, for the
 * next start); then frees w. Accepts NULL. */
void vg_watch_stop(vg_watch *w);

#ifdef __cplusplus
}
#endif
#endif
