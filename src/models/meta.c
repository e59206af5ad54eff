/* meta.c - reading figures out of a model's metadata sections: numbers by key path, and
 * the way the model saw its footage (so that every reader feeds it frames the same way). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/vigil.h"

int vg_model_meta_number(const vg_model *m, const char *section, const char *const *keys,
                         int depth, double *out) {
    char *text = vg_model_get_meta(m, section);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    const cJSON *v = root;
    free(text);
    for (int k = 0; k < depth && v; k++) v = cJSON_GetObjectItemCaseSensitive(v, keys[k]);
    int ok = cJSON_IsNumber(v);
    if (ok) *out = v->valuedouble;
    cJSON_Delete(root);
    return ok;
}

vg_source_params vg_model_source_params(const vg_model *m) {
    vg_source_params sp = vg_source_default_params();
    vg_model_info i = vg_model_describe(m);
    sp.width = i.width, sp.height = i.height;
    char *text = vg_model_get_meta(m, "training");
    cJSON *t = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *roi = cJSON_GetObjectItem(t, "roi"), *fit = cJSON_GetObjectItem(t, "fit");
    if (cJSON_GetArraySize(roi) == 4) {
        sp.roi_x = cJSON_GetArrayItem(roi, 0)->valueint;
        sp.roi_y = cJSON_GetArrayItem(roi, 1)->valueint;
        sp.roi_w = cJSON_GetArrayItem(roi, 2)->valueint;
        sp.roi_h = cJSON_GetArrayItem(roi, 3)->valueint;
    }
    for (vg_fit k = VG_FIT_STRETCH; cJSON_IsString(fit) && k <= VG_FIT_PAD; k++)
        if (!strcmp(fit->valuestring, vg_fit_name(k))) sp.fit = k;
    cJSON_Delete(t);
    return sp;
}
