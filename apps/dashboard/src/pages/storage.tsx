import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import type { CreateBucketInput, FileInfo as StoredFile } from '@selfbaas/sdk';
import { useClient } from '../session.js';
import { DataTable, Dialog, ErrorMessage, formatBytes, formatDate, Loading, Pager } from '../ui.js';

export function StoragePage() {
  const client = useClient();
  const qc = useQueryClient();
  const buckets = useQuery({ queryKey: ['buckets'], queryFn: () => client.admin.buckets.list() });
  const [name, setName] = useState('');
  const [isPublic, setPublic] = useState(false);
  const [maxMb, setMaxMb] = useState('');
  const [types, setTypes] = useState('');
  const create = useMutation({
    mutationFn: (input: CreateBucketInput) => client.admin.buckets.create(input),
    onSuccess: () => {
      setName('');
      setMaxMb('');
      setTypes('');
      void qc.invalidateQueries({ queryKey: ['buckets'] });
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    const mb = maxMb.trim() ? Number(maxMb) : null;
    create.mutate({
      name: name.trim(),
      public: isPublic,
      maxFileSize: mb === null ? null : Math.round(mb * 1024 * 1024),
      allowedMimeTypes: types.split(',').map((t) => t.trim()).filter(Boolean),
    });
  }

  return (
    <div className="page">
      <h1>Storage</h1>
      <form className="row card-inline" onSubmit={submit} aria-label="New bucket">
        <label>
          Bucket name
          <input name="bucket-name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="avatars" />
        </label>
        <label>
          Largest file (MiB)
          <input type="number" min="0" step="any" value={maxMb} onChange={(e) => setMaxMb(e.target.value)} placeholder="platform limit" />
        </label>
        <label className="grow">
          Allowed types
          <input value={types} onChange={(e) => setTypes(e.target.value)} placeholder="image/*, application/pdf (empty = any)" />
        </label>
        <label className="check">
          <input type="checkbox" checked={isPublic} onChange={(e) => setPublic(e.target.checked)} /> public
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create bucket
        </button>
      </form>
      <ErrorMessage error={create.error} title="The bucket was not created" />
      {buckets.isPending ? (
        <Loading what="buckets" />
      ) : buckets.error ? (
        <ErrorMessage error={buckets.error} />
      ) : (
        <DataTable head={['Bucket', 'Access', 'Largest file', 'Allowed types', 'Created']} empty={buckets.data.length === 0 && <>No buckets yet.</>}>
          {buckets.data.map((b) => (
            <tr key={b.id}>
              <td>
                <Link to="/storage/$bucket" params={{ bucket: b.name }}>
                  {b.name}
                </Link>
              </td>
              <td>{b.public ? 'public' : 'private'}</td>
              <td>{b.maxFileSize === null ? 'platform limit' : formatBytes(b.maxFileSize)}</td>
              <td>{b.allowedMimeTypes.join(', ') || 'any'}</td>
              <td>{formatDate(b.createdAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </div>
  );
}

const bucketRoute = getRouteApi('/storage/$bucket');

export function BucketPage() {
  const { bucket } = bucketRoute.useParams();
  const client = useClient();
  const qc = useQueryClient();
  const [prefix, setPrefix] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [progress, setProgress] = useState<{ name: string; loaded: number; total: number }>();
  const [preview, setPreview] = useState<StoredFile>();
  const fileInput = useRef<HTMLInputElement>(null);
  const cursor = cursors[cursors.length - 1];
  const files = useQuery({ queryKey: ['files', bucket, prefix, cursor], queryFn: () => client.storage.from(bucket).list({ prefix, cursor, limit: 100 }) });
  const upload = useMutation({
    // Multipart through the api (same origin as the dashboard): a presigned PUT would go to
    // S3 directly and need CORS on the S3 bucket, and to PUBLIC_URL, which may not be how
    // the operator reaches the api.
    mutationFn: (file: File) =>
      client.storage.from(bucket).upload(file, {
        key: `${prefix}${file.name}`,
        method: 'multipart',
        onProgress: ({ loaded, total }) => setProgress({ name: file.name, loaded, total }),
      }),
    onSettled: () => void qc.invalidateQueries({ queryKey: ['files', bucket] }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => client.storage.remove(id),
    onSuccess: () => {
      setPreview(undefined);
      void qc.invalidateQueries({ queryKey: ['files', bucket] });
    },
  });
  const download = useMutation({
    mutationFn: async (f: StoredFile) => {
      const { url } = await client.storage.createSignedUrl(f.id, { download: true });
      const a = document.createElement('a');
      a.href = url;
      a.download = f.key.split('/').pop() ?? f.id;
      a.click();
    },
  });

  // Folders: the next path segment of keys below the prefix.
  const folders = new Set<string>();
  const here: StoredFile[] = [];
  for (const f of files.data?.items ?? []) {
    const rest = f.key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash > 0) folders.add(rest.slice(0, slash + 1));
    else here.push(f);
  }
  const crumbs = prefix.split('/').filter(Boolean);

  return (
    <div className="page">
      <h1>
        Bucket <code>{bucket}</code>
      </h1>
      <nav className="crumbs" aria-label="Folder">
        <button type="button" className="link" onClick={() => setPrefix('')}>
          {bucket}
        </button>
        {crumbs.map((c, i) => (
          <span key={i}>
            {' / '}
            <button type="button" className="link" onClick={() => setPrefix(crumbs.slice(0, i + 1).join('/') + '/')}>
              {c}
            </button>
          </span>
        ))}
      </nav>
      <div className="row">
        <label className="grow">
          Prefix
          <input
            name="prefix"
            value={prefix}
            onChange={(e) => {
              setPrefix(e.target.value);
              setCursors([]);
            }}
            placeholder="folder/"
          />
        </label>
        <label className="file-button">
          Upload files
          <input
            ref={fileInput}
            type="file"
            multiple
            name="upload"
            onChange={(e) => {
              const list = [...(e.target.files ?? [])];
              void (async () => {
                for (const f of list) await upload.mutateAsync(f).catch(() => undefined);
                if (fileInput.current) fileInput.current.value = '';
              })();
            }}
          />
        </label>
      </div>
      {progress && (upload.isPending || upload.isSuccess) && (
        <div className="progress-line" role="status">
          <progress max={progress.total || 1} value={progress.loaded} aria-label={`Uploading ${progress.name}`} /> {progress.name}: {formatBytes(progress.loaded)} of{' '}
          {formatBytes(progress.total)} {upload.isSuccess && !upload.isPending ? '— done' : ''}
        </div>
      )}
      <ErrorMessage error={upload.error} title="Upload failed" />
      <ErrorMessage error={remove.error ?? download.error} />
      {files.isPending ? (
        <Loading what="files" />
      ) : files.error ? (
        <ErrorMessage error={files.error} />
      ) : (
        <>
          <DataTable head={['Key', 'Type', 'Size', 'Created', '']} empty={folders.size === 0 && here.length === 0 && <>No files{prefix ? ` under ${prefix}` : ''}.</>}>
            {[...folders].map((folder) => (
              <tr key={folder}>
                <td colSpan={5}>
                  <button type="button" className="link" onClick={() => setPrefix(prefix + folder)}>
                    📁 {folder}
                  </button>
                </td>
              </tr>
            ))}
            {here.map((f) => (
              <tr key={f.id}>
                <td>
                  <button type="button" className="link" onClick={() => setPreview(f)}>
                    {f.key.slice(prefix.length)}
                  </button>
                </td>
                <td>{f.contentType}</td>
                <td>{formatBytes(f.size)}</td>
                <td>{formatDate(f.createdAt)}</td>
                <td className="actions">
                  <button type="button" onClick={() => download.mutate(f)}>
                    Download
                  </button>
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      if (confirm(`Delete ${f.key}?`)) remove.mutate(f.id);
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
          <Pager cursors={cursors} nextCursor={files.data.nextCursor} onChange={setCursors} />
        </>
      )}
      <Dialog open={preview !== undefined} title={preview?.key ?? ''} wide onClose={() => setPreview(undefined)}>
        {preview && <Preview file={preview} />}
      </Dialog>
    </div>
  );
}

const TEXT_LIMIT = 64 * 1024;

function isText(type: string): boolean {
  return type.startsWith('text/') || /json|xml|javascript|csv|yaml/.test(type);
}

/** Images and text are fetched with the caller's credentials and shown in place. */
function Preview({ file }: { file: StoredFile }) {
  const client = useClient();
  const image = file.contentType.startsWith('image/') && file.contentType !== 'image/svg+xml';
  const text = isText(file.contentType);
  const content = useQuery({
    queryKey: ['file-content', file.id],
    enabled: image || text,
    queryFn: async () => {
      if (!text) return { blob: await client.storage.download(file.id) };
      // Text: only the first bytes (a Range request), decoded as UTF-8.
      const part = await client.storage.stream(file.id, { range: { start: 0, end: TEXT_LIMIT - 1 } });
      return { text: await new Response(part.body).text() };
    },
  });
  const url = useMemo(() => (content.data?.blob ? URL.createObjectURL(content.data.blob) : undefined), [content.data]);
  useEffect(
    () => () => {
      if (url) URL.revokeObjectURL(url);
    },
    [url],
  );
  return (
    <div className="stack">
      <dl className="props">
        <dt>Id</dt>
        <dd>
          <code>{file.id}</code>
        </dd>
        <dt>Type</dt>
        <dd>{file.contentType}</dd>
        <dt>Size</dt>
        <dd>{formatBytes(file.size)}</dd>
        <dt>sha256</dt>
        <dd>
          <code className="small">{file.checksum ?? '—'}</code>
        </dd>
      </dl>
      {!image && !text ? (
        <p className="muted">No preview for this type; download it instead.</p>
      ) : content.isPending ? (
        <Loading what="preview" />
      ) : content.error ? (
        <ErrorMessage error={content.error} title="Preview failed" />
      ) : text ? (
        <pre className="preview-text" data-testid="text-preview">
          {content.data.text}
          {file.size > TEXT_LIMIT ? '\n… (first 64 KiB)' : ''}
        </pre>
      ) : url ? (
        <img className="preview-image" src={url} alt={`Preview of ${file.key}`} />
      ) : null}
    </div>
  );
}
