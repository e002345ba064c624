/* SPDX-License-Identifier: GPL-2.0-or-later */
/* version.h - the one version string of sluice's programs and protocols. */
#ifndef SLUICE_VERSION_H
#define SLUICE_VERSION_H

#define SLUICE_VERSION "0.1.0"

#endif
