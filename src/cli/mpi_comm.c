/* mpi_comm.c: the processes of `mpirun -np K hicache run` as an
 * hc_exp_comm (experiment.h) over MPI_COMM_WORLD; built when CMake finds
 * MPI (HC_MPI, docs/cluster.md).  Only the main thread calls MPI. */
#include "mpi_comm.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_mpi_launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

#ifdef HC_HAVE_MPI
#include <mpi.h>

int cli_mpi_built(void) { return 1; }

static hc_status mpi_send(void *ctx, int to, int tag, const void *buf, size_t n)
{
    (void)ctx;
    if (n > INT_MAX) return hc_fail(HC_EINVAL, "a message of %zu bytes to rank %d is beyond MPI's int count", n, to);
    if (MPI_Send(buf, (int)n, MPI_BYTE, to, tag, MPI_COMM_WORLD) != MPI_SUCCESS)
        return hc_fail(HC_EIO, "MPI_Send to rank %d failed", to);
    return HC_OK;
}

static hc_status mpi_recv(void *ctx, int from, int tag, int block, int *got, void **buf, size_t *n, int *src)
{
    (void)ctx;
    MPI_Status st;
    int flag = 1, count = 0, f = from < 0 ? MPI_ANY_SOURCE : from;
    *got = 0;
    *buf = NULL;
    *n = 0;
    int rc = block ? MPI_Probe(f, tag, MPI_COMM_WORLD, &st) : MPI_Iprobe(f, tag, MPI_COMM_WORLD, &flag, &st);
    if (rc != MPI_SUCCESS) return hc_fail(HC_EIO, "MPI_Probe failed");
    if (!flag) return HC_OK;
    MPI_Get_count(&st, MPI_BYTE, &count);
    unsigned char *p = malloc((size_t)count + 1);
    if (!p) return hc_fail(HC_ENOMEM, "out of memory for a message of %d bytes", count);
    if (MPI_Recv(p, count, MPI_BYTE, st.MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        free(p);
        return hc_fail(HC_EIO, "MPI_Recv from rank %d failed", st.MPI_SOURCE);
    }
    *got = 1;
    *buf = p;
    *n = (size_t)count;
    *src = st.MPI_SOURCE;
    return HC_OK;
}

hc_status cli_mpi_init(int *argc, char ***argv, hc_exp_comm *comm, int *local_ranks)
{
    int provided = 0;
    memset(comm, 0, sizeof *comm);
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return hc_fail(HC_EIO, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, &comm->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &comm->size);
    MPI_Comm node;
    *local_ranks = 1;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_size(node, local_ranks);
        MPI_Comm_free(&node);
    }
    comm->send = mpi_send;
    comm->recv = mpi_recv;
    return HC_OK;
}

void cli_mpi_finalize(void)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) MPI_Finalize();
}

#else

int cli_mpi_built(void) { return 0; }

hc_status cli_mpi_init(int *argc, char ***argv, hc_exp_comm *comm, int *local_ranks)
{
    (void)argc;
    (void)argv;
    (void)comm;
    (void)local_ranks;
    return hc_fail(HC_EINVAL, "this hicache was built without MPI (cmake -DHC_MPI=OFF, or no MPI found): under "
                              "mpirun every process would run the whole experiment; rebuild with MPI (libopenmpi-dev) "
                              "or use --shard I/K (docs/cluster.md)");
}

void cli_mpi_finalize(void) {}

#endif
