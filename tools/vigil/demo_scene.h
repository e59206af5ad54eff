/* demo_scene.h - a synthetic conveyor belt for vigil demo: boxes ride a moving belt under
 * slightly flickering light with sensor noise; a test clip adds anomalies whose frames
 * are known. Every pixel is a pure function of (scene, frame), so clips are reproducible. */
#ifndef VIGIL_DEMO_SCENE_H
#define VIGIL_DEMO_SCENE_H

#include <stdint.h>

typedef enum demo_anomaly {
    DEMO_FOREIGN,  /* a red ball rides the belt among the boxes */
    DEMO_FALLEN,   /* a box slides off the belt and lies on the floor */
    DEMO_STOPPED,  /* the belt stops: nothing moves */
    DEMO_DARK,     /* the light drops to 60% */
    DEMO_ANOMALIES
} demo_anomaly;

typedef struct demo_event {
    demo_anomaly kind;
    int first, last; /* frames, inclusive */
} demo_event;

typedef struct demo_scene {
    int width, height;
    uint64_t seed;           /* noise, box sizes and colours, phase */
    const demo_event *events; /* anomalies of this clip (may be NULL) */
    int n_events;
} demo_scene;

const char *demo_anomaly_name(demo_anomaly a);

/* Renders frame f of the scene as RGB24 (height * width * 3 bytes). */
void demo_render(const demo_scene *s, int f, unsigned char *rgb);

#endif
