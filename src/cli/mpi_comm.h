/* mpi_comm.h: MPI for `hicache run` (mpi_comm.c; stubs without MPI). */
#ifndef HC_CLI_MPI_COMM_H
#define HC_CLI_MPI_COMM_H

#include "experiment.h"

/* 1 if this process was started by mpirun (Open MPI, PMIx or PMI). */
int cli_mpi_launched(void);
/* 1 if this hicache was built with MPI. */
int cli_mpi_built(void);
/* MPI_Init (main thread calls MPI only); comm over MPI_COMM_WORLD;
 * local_ranks: ranks on this node (MPI_COMM_TYPE_SHARED).  Without MPI:
 * HC_EINVAL saying so. */
hc_status cli_mpi_init(int *argc, char ***argv, hc_exp_comm *comm, int *local_ranks);
/* MPI_Finalize if initialised; no-op otherwise. */
void cli_mpi_finalize(void);

#endif
