/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto/hresult.h"

#include <errno.h>
#include <stddef.h>

#include <ksalloc/winerror.h>

static const struct {
	int error; /* positive errno */
	HRESULT hr;
} table[] = {
	{ EINVAL, E_INVALIDARG },
	{ EFAULT, E_POINTER },
	{ ENOMEM, E_OUTOFMEMORY },
	{ EACCES, E_ACCESSDENIED },
	{ EPERM, E_ACCESSDENIED },
	{ ENOENT, HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) },
	{ EEXIST, HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS) },
	{ EOPNOTSUPP, E_NOTIMPL },
	{ ECONNREFUSED, HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE) },
	{ ETIME, HRESULT_FROM_WIN32(ERROR_TIMEOUT) },
	{ ETIMEDOUT, VFW_E_TIMEOUT },
	{ EPIPE, HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE) },
	{ ECONNRESET, HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE) },
	{ EBADMSG, HRESULT_FROM_WIN32(ERROR_INVALID_DATA) },
	{ EMSGSIZE, HRESULT_FROM_WIN32(ERROR_INVALID_DATA) },
	{ EPROTO, E_UNEXPECTED },
	{ EUSERS, HRESULT_FROM_WIN32(ERROR_REQ_NOT_ACCEP) },
	{ EBADF, E_HANDLE },
	{ ESTALE, E_HANDLE },
	{ EALREADY, HRESULT_FROM_WIN32(ERROR_NOT_OWNER) },
	{ EBUSY, VFW_E_WRONG_STATE },
	{ ESHUTDOWN, VFW_E_NOT_COMMITTED },
	{ EDQUOT, HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_QUOTA) },
	{ ENODEV, HRESULT_FROM_WIN32(ERROR_DEV_NOT_EXIST) },
	{ EXDEV, HRESULT_FROM_WIN32(ERROR_NOT_SAME_DEVICE) }, /* a stream on another pool */
	{ E2BIG, HRESULT_FROM_WIN32(ERROR_BUFFER_OVERFLOW) }, /* a pool too large for a stream */
	{ EIO, E_FAIL },
};

int32_t hresult_from_errno(int error)
{
	if (error == 0)
		return S_OK;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].error == -error)
			return table[i].hr;
	return E_FAIL;
}

int hresult_to_errno(int32_t hr)
{
	if (SUCCEEDED(hr))
		return 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].hr == hr)
			return -table[i].error;
	return -EIO;
}
