/* event.c - an event as the JSON payload that vigil's sinks send (field names in vigil.h),
 * shaped after Frigate's MQTT events: one object per lifecycle step, "type" new, update or
 * end. */
#include <cjson/cJSON.h>
#include <math.h>

#include "core/status.h"

#define EVENT_FIELDS 19 /* the keys vg_event_json writes */

static const char *type_name(vg_event_type t) {
    return t == VG_EVENT_NEW ? "new" : t == VG_EVENT_UPDATE ? "update" : "end";
}

static const char *severity_name(vg_severity s) {
    return s == VG_SEVERITY_HIGH ? "high" : s == VG_SEVERITY_MEDIUM ? "medium" : "low";
}

/* Seconds to the microsecond, finer than any frame clock: a difference of two times (0.4 -
 * 0.1 = 0.30000000000000004) is written as the 0.3 a reader expects. */
static void add_seconds(cJSON *o, const char *key, double t) {
    cJSON_AddNumberToObject(o, key, round(t * 1e6) / 1e6);
}

/* A string or JSON null. */
static void add_text(cJSON *o, const char *key, const char *text) {
    if (text) cJSON_AddStringToObject(o, key, text);
    else cJSON_AddNullToObject(o, key);
}

static void add_band(cJSON *o, const vg_event *ev) {
    if (isnan(ev->band_lo)) {
        cJSON_AddNullToObject(o, "band");
        cJSON_AddNullToObject(o, "confidence");
        return;
    }
    const double band[2] = {ev->band_lo, ev->band_hi};
    cJSON_AddItemToObject(o, "band", cJSON_CreateDoubleArray(band, 2));
    add_text(o, "confidence", ev->confidence == VG_CONFIDENCE_HIGH ? "high" : "low");
}

char *vg_event_json(const vg_event *ev, const char *camera, const char *snapshot,
                    const char *clip) {
    cJSON *o = ev ? cJSON_CreateObject() : NULL;
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "id", (double)ev->id);
    add_text(o, "camera", camera);
    add_text(o, "class", vg_event_class_name(ev->event_class));
    add_text(o, "type", type_name(ev->type));
    cJSON_AddNumberToObject(o, "start_frame", (double)ev->start_frame);
    cJSON_AddNumberToObject(o, "end_frame", (double)ev->end_frame);
    add_seconds(o, "start_time", ev->start_time);
    add_seconds(o, "end_time", ev->end_time);
    add_seconds(o, "duration", ev->duration);
    cJSON_AddNumberToObject(o, "peak", ev->peak);
    cJSON_AddNumberToObject(o, "peak_frame", (double)ev->peak_frame);
    add_seconds(o, "peak_time", ev->peak_time);
    cJSON_AddNumberToObject(o, "current", ev->current);
    cJSON_AddNumberToObject(o, "threshold", ev->threshold);
    add_text(o, "severity", severity_name(ev->severity));
    add_band(o, ev);
    add_text(o, "snapshot", snapshot);
    add_text(o, "clip", clip);
    /* cJSON skips an item it has no memory for: a short object means out of memory */
    char *text = cJSON_GetArraySize(o) == EVENT_FIELDS ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return text;
}
