/* Delta tables from C through include/deltalake.h: open a table and print its rows from an Arrow
 * C stream (through a snapshot and a planned scan), write a new table from an Arrow C stream built
 * here, append batches one at a time with a writer, delete rows, read it back.
 *
 *   example <existing table> <new table directory>
 *
 * Build (see scripts/test-ffi.sh):
 *   cc -Iinclude examples/c/example.c target/debug/libdeltalake_ffi.a -lpthread -ldl -lm
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltalake.h"

/* Print the failed call's status and message and return 1. */
static int fail(const char *what, DeltaStatus status) {
  fprintf(stderr, "%s failed: %s: %s\n", what, delta_status_name((uint32_t)status),
          delta_last_error_message());
  return 1;
}

/* One value of column `array` (of Arrow format `format`) at `row`, printed. */
static void print_value(const char *format, const struct ArrowArray *array, int64_t row) {
  int64_t i = row + array->offset;
  const uint8_t *validity = array->buffers[0];
  if (validity != NULL && !(validity[i / 8] & (1 << (i % 8)))) {
    printf("null");
  } else if (strcmp(format, "l") == 0) {
    printf("%" PRId64, ((const int64_t *)array->buffers[1])[i]);
  } else if (strcmp(format, "i") == 0) {
    printf("%" PRId32, ((const int32_t *)array->buffers[1])[i]);
  } else if (strcmp(format, "u") == 0) {
    const int32_t *offsets = array->buffers[1];
    const char *data = array->buffers[2];
    printf("\"%.*s\"", (int)(offsets[i + 1] - offsets[i]), data + offsets[i]);
  } else {
    printf("<%s>", format);
  }
}

/* Read a stream to its end, printing each row; returns the row count, or -1 on error. The stream
 * is released. */
static int64_t print_stream(struct ArrowArrayStream *stream) {
  struct ArrowSchema schema;
  int64_t rows = 0;
  if (stream->get_schema(stream, &schema) != 0) {
    fprintf(stderr, "get_schema: %s\n", stream->get_last_error(stream));
    stream->release(stream);
    return -1;
  }
  for (;;) {
    struct ArrowArray batch;
    if (stream->get_next(stream, &batch) != 0) {
      fprintf(stderr, "get_next: %s\n", stream->get_last_error(stream));
      rows = -1;
      break;
    }
    if (batch.release == NULL) {
      break; /* the end of the stream */
    }
    for (int64_t row = 0; row < batch.length; row++) {
      printf("  {");
      for (int64_t c = 0; c < batch.n_children; c++) {
        printf("%s%s: ", c ? ", " : "", schema.children[c]->name);
        print_value(schema.children[c]->format, batch.children[c], row);
      }
      printf("}\n");
    }
    rows += batch.length;
    batch.release(&batch);
  }
  schema.release(&schema);
  stream->release(stream);
  return rows;
}

/* ---- An Arrow C stream of two batches of (id int64 not null, name utf8), built by hand. ---- */

static void release_schema(struct ArrowSchema *schema) {
  for (int64_t i = 0; i < schema->n_children; i++) {
    free(schema->children[i]);
  }
  free(schema->children);
  schema->release = NULL;
}

static void make_schema(struct ArrowSchema *out) {
  static const char *formats[] = {"l", "u"};
  static const char *names[] = {"id", "name"};
  static const int64_t flags[] = {0, ARROW_FLAG_NULLABLE};
  *out = (struct ArrowSchema){.format = "+s", .name = "", .n_children = 2, .release = release_schema};
  out->children = calloc(2, sizeof(struct ArrowSchema *));
  for (int i = 0; i < 2; i++) {
    out->children[i] = calloc(1, sizeof(struct ArrowSchema));
    *out->children[i] = (struct ArrowSchema){
        .format = formats[i], .name = names[i], .flags = flags[i], .release = release_schema};
  }
}

/* A batch owns one malloc'd block per buffer, its children and their buffer lists. */
static void release_array(struct ArrowArray *array) {
  for (int64_t i = 0; i < array->n_children; i++) {
    array->children[i]->release(array->children[i]);
    free(array->children[i]);
  }
  free(array->children);
  for (int64_t i = 0; i < array->n_buffers; i++) {
    free((void *)array->buffers[i]);
  }
  free(array->buffers);
  array->release = NULL;
}

static struct ArrowArray *new_child(int64_t length, int64_t n_buffers) {
  struct ArrowArray *child = calloc(1, sizeof(struct ArrowArray));
  *child = (struct ArrowArray){.length = length, .n_buffers = n_buffers, .release = release_array};
  child->buffers = calloc((size_t)n_buffers, sizeof(void *));
  return child;
}

/* Rows first_id, first_id + 1, ... named "row-<id>". */
static void make_batch(struct ArrowArray *out, int64_t first_id, int64_t length) {
  struct ArrowArray *ids = new_child(length, 2);
  int64_t *id_values = malloc((size_t)length * sizeof(int64_t));
  struct ArrowArray *names = new_child(length, 3);
  int32_t *offsets = malloc((size_t)(length + 1) * sizeof(int32_t));
  char *text = malloc((size_t)length * 24);
  offsets[0] = 0;
  for (int64_t i = 0; i < length; i++) {
    id_values[i] = first_id + i;
    int written = sprintf(text + offsets[i], "row-%" PRId64, first_id + i);
    offsets[i + 1] = offsets[i] + written;
  }
  ids->buffers[1] = id_values;
  names->buffers[1] = offsets;
  names->buffers[2] = text;
  *out = (struct ArrowArray){.length = length, .n_buffers = 1, .n_children = 2, .release = release_array};
  out->buffers = calloc(1, sizeof(void *));
  out->children = calloc(2, sizeof(struct ArrowArray *));
  out->children[0] = ids;
  out->children[1] = names;
}

struct BatchSource {
  int64_t batches_left;
  int64_t next_id;
};

static int source_get_schema(struct ArrowArrayStream *stream, struct ArrowSchema *out) {
  (void)stream;
  make_schema(out);
  return 0;
}

static int source_get_next(struct ArrowArrayStream *stream, struct ArrowArray *out) {
  struct BatchSource *source = stream->private_data;
  if (source->batches_left == 0) {
    out->release = NULL; /* end of stream */
    return 0;
  }
  make_batch(out, source->next_id, 3);
  source->next_id += 3;
  source->batches_left--;
  return 0;
}

static const char *source_get_last_error(struct ArrowArrayStream *stream) {
  (void)stream;
  return NULL;
}

static void source_release(struct ArrowArrayStream *stream) {
  free(stream->private_data);
  stream->release = NULL;
}

static void make_stream(struct ArrowArrayStream *out, int64_t batches) {
  struct BatchSource *source = malloc(sizeof(struct BatchSource));
  *source = (struct BatchSource){.batches_left = batches, .next_id = 1};
  *out = (struct ArrowArrayStream){.get_schema = source_get_schema,
                                   .get_next = source_get_next,
                                   .get_last_error = source_get_last_error,
                                   .release = source_release,
                                   .private_data = source};
}

/* Scan `table` (the rows matching `predicate`, or all when NULL) and print the rows; returns the
 * row count, or -1 on error. */
static int64_t scan(const DeltaTableHandle *table, const char *predicate) {
  struct ArrowArrayStream stream;
  DeltaStatus status = delta_table_scan(table, NULL, 0, predicate, &stream);
  if (status != DELTA_STATUS_OK) {
    fail("delta_table_scan", status);
    return -1;
  }
  return print_stream(&stream);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <existing table> <new table directory>\n", argv[0]);
    return 2;
  }
  DeltaTableHandle *table = NULL;
  DeltaStatus status;

  /* 1. Open a table, hold its version still as a snapshot (which outlives the table handle), plan
   *    a scan of it once and print its rows. */
  status = delta_table_open(argv[1], NULL, NULL, 0, false, 0, false, 0, NULL, &table);
  if (status != DELTA_STATUS_OK) {
    return fail("delta_table_open", status);
  }
  DeltaSnapshotHandle *snapshot = NULL;
  status = delta_table_snapshot(table, &snapshot);
  delta_table_free(table);
  if (status != DELTA_STATUS_OK) {
    return fail("delta_table_snapshot", status);
  }
  int64_t version = -1;
  delta_snapshot_version(snapshot, &version);
  printf("%s at version %" PRId64 ":\n", argv[1], version);
  DeltaScanHandle *planned = NULL;
  status = delta_snapshot_scan(snapshot, NULL, 0, NULL, &planned);
  delta_snapshot_free(snapshot);
  if (status != DELTA_STATUS_OK) {
    return fail("delta_snapshot_scan", status);
  }
  struct ArrowArrayStream rows_stream;
  status = delta_scan_execute(planned, &rows_stream);
  delta_scan_free(planned);
  if (status != DELTA_STATUS_OK) {
    return fail("delta_scan_execute", status);
  }
  int64_t rows = print_stream(&rows_stream);
  if (rows < 0) {
    return 1;
  }
  printf("%" PRId64 " rows\n", rows);

  /* 2. Errors are statuses with a message; a missing table is DELTA_STATUS_NOT_FOUND. */
  status = delta_table_open("/nonexistent/delta/table", NULL, NULL, 0, false, 0, false, 0, NULL, &table);
  printf("opening a missing table: %s\n", delta_status_name((uint32_t)status));
  if (status != DELTA_STATUS_NOT_FOUND) {
    return 1;
  }

  /* 3. Write a new table from an Arrow C stream of two batches (6 rows), partitioned by nothing,
   * with a table property. The stream is moved into the call: the library releases it. */
  struct ArrowArrayStream data;
  make_stream(&data, 2);
  const char *keys[] = {"delta.appendOnly"};
  const char *values[] = {"false"};
  DeltaWriteOptions options = {0};
  options.mode = "error";
  options.configuration_keys = keys;
  options.configuration_values = values;
  options.configuration_len = 1;
  options.name = "example";
  status = delta_write(argv[2], NULL, NULL, 0, &data, &options, NULL, &table);
  if (status != DELTA_STATUS_OK) {
    return fail("delta_write", status);
  }
  delta_table_version(table, &version);
  printf("wrote %s at version %" PRId64 "\n", argv[2], version);

  /* 3b. Append batches one at a time with a writer (no stream to implement): ids 7 and 8. Each
   * array is moved into the call; nothing is committed until delta_writer_finish. */
  struct ArrowSchema schema;
  make_schema(&schema);
  DeltaWriterHandle *writer = NULL;
  status = delta_table_writer(table, &schema, NULL, &writer);
  schema.release(&schema);
  if (status != DELTA_STATUS_OK) {
    delta_table_free(table);
    return fail("delta_table_writer", status);
  }
  for (int64_t id = 7; id <= 8 && status == DELTA_STATUS_OK; id++) {
    struct ArrowArray batch;
    make_batch(&batch, id, 1);
    status = delta_writer_write(writer, &batch, NULL);
  }
  if (status == DELTA_STATUS_OK) {
    status = delta_writer_finish(writer, &version);
  }
  delta_writer_free(writer);
  if (status != DELTA_STATUS_OK) {
    delta_table_free(table);
    return fail("the writer", status);
  }
  printf("appended at version %" PRId64 "\n", version);

  /* 4. Delete rows; the metrics come back as JSON. */
  char *metrics = NULL;
  status = delta_table_delete(table, "id % 2 = 0", NULL, &metrics);
  if (status != DELTA_STATUS_OK) {
    delta_table_free(table);
    return fail("delta_table_delete", status);
  }
  printf("delete metrics: %s\n", metrics);
  delta_string_free(metrics);

  /* 5. Read it back: 4 rows are left (ids 1, 3, 5, 7), and a predicate selects among them. */
  printf("after the delete:\n");
  rows = scan(table, NULL);
  int64_t matching = scan(table, "name = 'row-5'");
  char *schema_json = NULL;
  status = delta_table_schema_json(table, &schema_json);
  if (status != DELTA_STATUS_OK) {
    delta_table_free(table);
    return fail("delta_table_schema_json", status);
  }
  printf("schema: %s\n", schema_json);
  delta_string_free(schema_json);
  delta_table_free(table);
  if (rows != 4 || matching != 1) {
    fprintf(stderr, "expected 4 rows and 1 match, got %" PRId64 " and %" PRId64 "\n", rows, matching);
    return 1;
  }
  printf("ok\n");
  return 0;
}
