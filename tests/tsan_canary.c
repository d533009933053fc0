/*
 * tsan_canary.c - the self-check of scripts/test.sh --tsan: each thread
 * writes its slot and reads its neighbour's.  Built with -DRACY=0 there is a
 * barrier in between and ThreadSanitizer must stay silent (it does only when
 * libomp's Archer tool tells it about the barrier); with -DRACY=1 there is
 * none and it must report the race.  A clean TSan run of the tests means
 * something only when both hold.
 */
#include <omp.h>
#include <stdio.h>

int main(void)
{
    static long slot[4], seen[4];
#pragma omp parallel num_threads(4)
    {
        int t = omp_get_thread_num();
        slot[t] = t + 1;
#if !RACY
#pragma omp barrier
#endif
        seen[t] = slot[(t + 1) % 4];
    }
    printf("%ld\n", seen[0] + seen[1] + seen[2] + seen[3]);
    return 0;
}
