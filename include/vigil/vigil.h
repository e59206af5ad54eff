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

/* Inference (predictions, streams, encodings) planned from now on computes in bfloat16
 * with float32 accumulation: about 2x faster on CPUs with AVX512_BF16; predictions within
 * 1% (relative L2) of float32 on the test fixtures. Default off; not stored in the model
 * file. VG_ERR_UNSUPPORTED on other CPUs. */
int vg_model_set_bf16(vg_model *m, int on, vg_error *err);

/* What a model was built with; strings are static. */
typedef struct vg_model_info {
    const char *encoder, *variant;
    int frames, width, height;
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
 * Each pushed frame is encoded once; its features join a ring of the last T, from which
 * the next frame is predicted. */

typedef struct vg_stream vg_stream;

int vg_stream_create(vg_model *m, vg_stream **out, vg_error *err);
void vg_stream_free(vg_stream *s); /* accepts NULL */

/* Pushes frame (3, H, W). Once T frames are in, writes the prediction of the next frame
 * into pred_next (3, H, W; may be NULL) and sets *ready to 1; else *ready = 0. */
int vg_stream_push(vg_stream *s, const float *frame, float *pred_next, int *ready,
                   vg_error *err);

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

typedef struct vg_source_params {
    int width, height;              /* output size; 0, 0: the source's (after the ROI) */
    int roi_x, roi_y, roi_w, roi_h; /* crop applied before resizing; roi_w = 0: none */
    vg_fit fit;
    int realtime;                   /* files and folders: deliver at the stream's frame
                                       rate (by timestamps; folders: folder_fps) */
    int timeout_ms;                 /* network sources: open and read timeout, 10000
                                       (0: none) */
    double folder_fps;              /* image folders: frame rate for timestamps, 25 */
} vg_source_params;

vg_source_params vg_source_default_params(void);

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
 * is scored against the model's prediction of it from the T frames before. */
typedef struct vg_scorer vg_scorer;

int vg_scorer_create(vg_model *m, int patch, vg_scorer **out, vg_error *err);
void vg_scorer_free(vg_scorer *s); /* accepts NULL */

/* Pushes a frame. Once T frames are in, *scored = 1 and out (and error_map (H, W), and
 * pred_rgb (H * W * 3 bytes): the prediction; both may be NULL) describe this frame. */
int vg_scorer_push(vg_scorer *s, const unsigned char *rgb, vg_score *out, float *error_map,
                   unsigned char *pred_rgb, int *scored, vg_error *err);

/* Starts over (a new clip): the next T frames are context again. */
void vg_scorer_reset(vg_scorer *s);

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

/* ---- evaluation -------------------------------------------------------------------------
 * Ground truth and ROC analysis (SYSTEM.md "Evaluation protocol"). */

typedef struct vg_labels vg_labels;

/* Per-frame labels in the JSON form {"clips": {"NAME": [0, 1, ...], ...}} (1 = anomalous),
 * as ../shared/data/ped2/labels/ped2_frame_labels.json. */
int vg_labels_load(const char *path, vg_labels **out, vg_error *err);
void vg_labels_free(vg_labels *l); /* accepts NULL */

/* The labels of the clip called name (a clip's folder or file name without extension),
 * *n of them; NULL when the file has no such clip. */
const unsigned char *vg_labels_clip(const vg_labels *l, const char *name, int *n);

/* Area under the ROC curve of score (higher = more anomalous) against label (nonzero =
 * anomalous), ties counted half. Needs both classes. */
int vg_roc_auc(const double *score, const unsigned char *label, long long n, double *auc,
               vg_error *err);

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

#ifdef __cplusplus
}
#endif
#endif
