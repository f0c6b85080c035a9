/* mimecast/private.h - for src/mimecast/ alone (and its unit tests). */
#ifndef MW_MIMECAST_PRIVATE_H
#define MW_MIMECAST_PRIVATE_H

#include "mimecast.h"

#endif
