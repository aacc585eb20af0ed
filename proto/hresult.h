/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one errno <-> HRESULT table. Code on both sides works with -errno; the
 * wire carries HRESULTs (every reply has one), and the KS shim returns them.
 *
 *   0             S_OK
 *   EINVAL        E_INVALIDARG
 *   EFAULT        E_POINTER
 *   ENOMEM        E_OUTOFMEMORY
 *   EACCES, EPERM E_ACCESSDENIED
 *   ENOENT        HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)     no such pool
 *   EEXIST        HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)
 *   EOPNOTSUPP    E_NOTIMPL                                    unknown request
 *   ECONNREFUSED  HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE) daemon not running
 *   ETIME         HRESULT_FROM_WIN32(ERROR_TIMEOUT)            daemon did not answer
 *   ETIMEDOUT     VFW_E_TIMEOUT                                no frame in time
 *   EPIPE         HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE)        daemon went away
 *   EBADMSG       HRESULT_FROM_WIN32(ERROR_INVALID_DATA)       undecodable message
 *   EPROTO        E_UNEXPECTED                                 out-of-order request
 *   EUSERS        HRESULT_FROM_WIN32(ERROR_REQ_NOT_ACCEP)      too many sessions
 *   EBADF         E_HANDLE
 *   ESTALE        E_HANDLE                                     an old frame handle, or
 *                                                              one of a pool whose daemon
 *                                                              is gone or stopped
 *   EALREADY      HRESULT_FROM_WIN32(ERROR_NOT_OWNER)          frame released twice
 *   EBUSY         VFW_E_WRONG_STATE                            pool in use, committed
 *   ESHUTDOWN     VFW_E_NOT_COMMITTED                          pool decommitted or gone,
 *                                                              or its daemon gone
 *   EDQUOT        HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_QUOTA)   a per-uid or per-session limit
 *   EXDEV         HRESULT_FROM_WIN32(ERROR_NOT_SAME_DEVICE)    a stream that exists on
 *                                                              another pool
 *   E2BIG         HRESULT_FROM_WIN32(ERROR_BUFFER_OVERFLOW)    a pool too large for a
 *                                                              stream
 *   anything else E_FAIL (and E_FAIL or an unknown HRESULT reads back as EIO)
 *
 * Some errnos fold into the row of a sibling (ECONNRESET into EPIPE, EMSGSIZE
 * into EBADMSG): both directions are in the table, the first match wins.
 */

#include <stdint.h>

int32_t hresult_from_errno(int error); /* @error: 0 or a negative errno */
int hresult_to_errno(int32_t hr);      /* returns 0 or a negative errno */
