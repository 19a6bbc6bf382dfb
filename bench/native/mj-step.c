// Native anchor for `npm run bench -- envs --native DIR`: steps a model N times from a given
// state and control, and prints the mean microseconds per mj_step (after a warm-up).
// Usage: mj-step MODEL.xml STATE.txt N   (STATE: nq qpos values, then nu ctrl values)
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv) {
  if (argc != 4) { fprintf(stderr, "usage: mj-step MODEL.xml STATE.txt N\n"); return 2; }
  char err[1000] = "";
  mjModel* m = mj_loadXML(argv[1], NULL, err, sizeof err);
  if (!m) { fprintf(stderr, "mj_loadXML: %s\n", err); return 1; }
  mjData* d = mj_makeData(m);
  FILE* f = fopen(argv[2], "r");
  if (!f) { fprintf(stderr, "cannot open %s\n", argv[2]); return 1; }
  for (int i = 0; i < m->nq; i++) if (fscanf(f, "%lf", &d->qpos[i]) != 1) return 1;
  for (int i = 0; i < m->nu; i++) if (fscanf(f, "%lf", &d->ctrl[i]) != 1) return 1;
  fclose(f);
  long n = atol(argv[3]);
  mj_forward(m, d);
  for (long i = 0; i < n / 10; i++) mj_step(m, d);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) mj_step(m, d);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double us = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / n;
  printf("{\"version\":\"%s\",\"usPerStep\":%.4f,\"ncon\":%d}\n", mj_versionString(), us, d->ncon);
  mj_deleteData(d);
  mj_deleteModel(m);
  return 0;
}
