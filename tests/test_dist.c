/*
 * test_dist.c - the cluster mode's ranks without a launcher, and a build
 * without MPI started as one of several ranks (engine/dist/ms_dist.h).
 * The sweep across real ranks is tests/cluster/test_mpi.sh (mpirun).
 *
 * The Release build has MPI (when libopenmpi-dev is there); the sanitizer
 * builds of .ci/run do not: each build asserts what it must do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_dist.h"

/* No launcher: one rank, collectives local. */
static void test_alone(void **state)
{
    (void)state;
    unsetenv("OMPI_COMM_WORLD_SIZE"), unsetenv("PMIX_RANK"), unsetenv("PMIX_SIZE"), unsetenv("PMI_SIZE");
    int argc = 1;
    char name[] = "test_dist";
    char *args[] = {name, NULL}, **argv = args;
    assert_int_equal(ms_dist_start(&argc, &argv), MS_OK);
    assert_int_equal(ms_dist_rank(), 0);
    assert_int_equal(ms_dist_size(), 1);
    int share = -1, nshares = -1;
    ms_dist_cpu_share(&share, &nshares);
    assert_int_equal(share, 0);
    assert_int_equal(nshares, 1);
    /* A rank's own failure is the answer, its message kept. */
    ms_error_set(MS_E_IO, "disk on fire");
    assert_int_equal(ms_dist_agree(MS_E_IO), MS_E_IO);
    assert_string_equal(ms_error_detail(), "disk on fire");
    assert_int_equal(ms_dist_agree(MS_OK), MS_OK);
    uint64_t v = 7, all[2] = {0, 0}, mine[2] = {3, 4};
    assert_int_equal(ms_dist_max_u64(&v), MS_OK);
    assert_int_equal(v, 7);
    assert_int_equal(ms_dist_gather_u64(mine, 2, all), MS_OK);
    assert_int_equal(all[0], 3);
    assert_int_equal(all[1], 4);
    ms_dist_stop();
}

/* Started by mpirun as one of 3 ranks: an MPI build would join the job (not
 * tried here: there is no mpirun around this test); a build without MPI
 * must refuse, or 3 copies would each sweep everything into one OUT. */
static void test_launched_without_mpi(void **state)
{
    (void)state;
    if (ms_dist_built()) skip();
    int argc = 1;
    char name[] = "test_dist";
    char *args[] = {name, NULL}, **argv = args;
    setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
    ms_status_t st = ms_dist_start(&argc, &argv);
    unsetenv("OMPI_COMM_WORLD_SIZE");
    assert_int_equal(st, MS_E_USAGE);
    assert_non_null(strstr(ms_error_detail(), "one of 3 ranks"));
    assert_non_null(strstr(ms_error_detail(), "built without MPI"));
    /* srun --mpi=pmix says so with PMIX_RANK and the step's task count. */
    setenv("PMIX_RANK", "1", 1);
    setenv("SLURM_STEP_NUM_TASKS", "2", 1);
    st = ms_dist_start(&argc, &argv);
    unsetenv("PMIX_RANK"), unsetenv("SLURM_STEP_NUM_TASKS");
    assert_int_equal(st, MS_E_USAGE);
    assert_non_null(strstr(ms_error_detail(), "one of 2 ranks"));
    /* One rank of one is the program alone. */
    setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
    assert_int_equal(ms_dist_start(&argc, &argv), MS_OK);
    unsetenv("OMPI_COMM_WORLD_SIZE");
    assert_int_equal(ms_dist_size(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alone),
        cmocka_unit_test(test_launched_without_mpi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
